// The confirmation step as a dialog (templates/macros/confirm.html). A link marked
// data-confirm-open leads to a confirmation page; here it opens that page's [data-confirm] part in
// a native modal <dialog> instead: the same text, the same form. Focus goes to the reason field if
// the step asks for one, otherwise to "No, go back" (the safe choice); Esc or "No, go back" close
// it and focus returns to the link. Anything unexpected falls back to the page itself.
(function () {
  "use strict";

  function open(link) {
    fetch(link.href, { credentials: "same-origin", headers: { "X-Confirm-Dialog": "1" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var step = page.querySelector("[data-confirm]");
        if (!step || typeof HTMLDialogElement === "undefined") { throw new Error("no dialog"); }
        show(link, document.importNode(step, true));
      })
      .catch(function () { window.location.href = link.href; });
  }

  function show(link, step) {
    var dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-title");
    dialog.setAttribute("aria-describedby", "confirm-text");
    step.classList.remove("narrow");
    // The page's heading is the dialog's title here: an h2, the page under it keeps its one h1.
    var title = step.querySelector("#confirm-title");
    var heading = document.createElement("h2");
    heading.id = "confirm-title";
    heading.textContent = title.textContent;
    title.replaceWith(heading);
    dialog.appendChild(step);
    document.body.appendChild(dialog);
    dialog.addEventListener("close", function () {
      dialog.remove();
      link.focus();
    });
    step.querySelector("[data-confirm-cancel]").addEventListener("click", function (event) {
      event.preventDefault();
      dialog.close();
    });
    dialog.showModal();
    var first = step.querySelector("input:not([type=hidden]), textarea") || step.querySelector("[data-confirm-cancel]");
    first.focus();
  }

  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("a[data-confirm-open]") : null;
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) { return; }
    event.preventDefault();
    event.stopPropagation(); // not also a boosted navigation
    open(link);
  }, true);
}());
