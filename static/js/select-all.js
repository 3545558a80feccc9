// "Choose all" for a list of checkboxes (the approval queue): a checkbox with
// data-select-all="<name>" ticks or clears every checkbox of that name in the same form. It is
// rendered hidden and shown here, so a page without JavaScript shows no control that does nothing.
(function () {
  "use strict";

  function boxes(all) {
    var form = all.form;
    var name = all.closest("[data-select-all]").getAttribute("data-select-all");
    return form ? Array.prototype.filter.call(form.elements, function (el) {
      return el.type === "checkbox" && el.name === name;
    }) : [];
  }

  function reflect(all) {
    var picked = boxes(all).filter(function (box) { return box.checked; }).length;
    all.checked = picked > 0 && picked === boxes(all).length;
    all.indeterminate = picked > 0 && !all.checked;
  }

  function show(root) {
    root.querySelectorAll("[data-select-all][hidden]").forEach(function (wrapper) {
      wrapper.hidden = false;
      var all = wrapper.querySelector("input[type=checkbox]");
      if (all) { reflect(all); }
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement) || target.type !== "checkbox") { return; }
    if (target.closest("[data-select-all]")) {
      boxes(target).forEach(function (box) { box.checked = target.checked; });
      return;
    }
    document.querySelectorAll("[data-select-all] input[type=checkbox]").forEach(function (all) {
      if (all.form === target.form) { reflect(all); }
    });
  });

  document.addEventListener("DOMContentLoaded", function () { show(document); });
  // htmx (hx-boost) swaps the body without a new DOMContentLoaded.
  document.addEventListener("htmx:load", function (event) { show(event.target); });
}());
