"""On a phone (360 × 740): the main menu is folded away behind "Menu", which opens and closes with
the keyboard and without JavaScript, and the coordinators' approval queue shows each booking as a
card with its actions in view, with no sideways scrolling. At a desktop width the whole menu is
shown as before. Every page visited passes axe-core (WCAG 2.1 AA)."""

import re

import pytest
from playwright.sync_api import Page, expect

from app import demo
from tests.browser.conftest import assert_accessible
from tests.browser.test_login import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
PHONE_SIDEWAYS = {"width": 740, "height": 360}
DESKTOP = {"width": 1280, "height": 800}
QUEUE = "Bookinger, der venter på godkendelse"


def toggle(page: Page):
    return page.locator("header details.menu-toggle > summary")


def menu_link(page: Page, href: str):
    return page.locator(f'header nav a[href="{href}"]')


def focused(page: Page) -> str:
    return page.evaluate("document.activeElement.textContent.trim()")


def tab_to(page: Page, text: str, tries: int = 20) -> None:
    for _ in range(tries):
        page.keyboard.press("Tab")
        if focused(page) == text:
            return
    raise AssertionError(f"the keyboard never reached {text!r}")


def no_sideways_scrolling(page: Page) -> None:
    """Neither the page nor the table's own box is wider than the screen."""
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.evaluate(
        "window.innerWidth"
    )
    box = page.locator(".table-wrap").evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert box[0] <= box[1], box


def test_the_menu_is_folded_on_a_phone_and_opens_with_the_keyboard(page):
    page.set_viewport_size(PHONE)
    log_in(page, demo.ACCOUNTS["coordinator"])
    page.goto("/bookings")
    organisations = menu_link(page, "/admin/organisations")
    expect(organisations).to_be_attached()
    expect(organisations).to_be_hidden()
    expect(menu_link(page, "/bookings")).to_be_hidden()
    expect(toggle(page)).to_be_visible()
    expect(toggle(page)).to_have_accessible_name("Menu")
    # The folded header takes a small part of the first screen (the whole menu took about 40 %).
    assert page.locator("header").bounding_box()["height"] <= 0.15 * PHONE["height"]
    expect(page.get_by_role("heading", name=QUEUE)).to_be_in_viewport()
    assert_accessible(page)

    # The keyboard reaches the skip link first, then the brand, then "Menu", which shows its focus.
    page.keyboard.press("Tab")
    assert focused(page) == "Gå til indhold"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused(page) == "Menu"
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    expect(toggle(page)).to_have_css("outline-style", "solid")
    expect(toggle(page)).to_have_css("outline-width", "3px")

    page.keyboard.press("Enter")
    expect(menu_link(page, "/bookings")).to_be_visible()
    expect(page.locator("header details.menu-toggle")).to_have_attribute("open", "")
    # The page shown is marked in the menu.
    expect(menu_link(page, "/bookings")).to_have_attribute("aria-current", "page")
    assert_accessible(page)  # with the menu open
    page.keyboard.press("Tab")
    assert focused(page) == "Aktiviteter"  # the menu's first link comes right after "Menu"

    page.keyboard.press("Shift+Tab")
    assert focused(page) == "Menu"
    page.keyboard.press("Space")
    expect(menu_link(page, "/bookings")).to_be_hidden()
    page.keyboard.press("Space")
    expect(menu_link(page, "/bookings")).to_be_visible()

    # The staff's own tools are one more fold inside the menu, so that it is one row on a desktop.
    tab_to(page, "Administration")
    page.keyboard.press("Enter")
    expect(organisations).to_be_visible()
    tab_to(page, "Organisationer")
    expect(organisations).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Organisationer")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/organisations$"))
    # The next page starts with the menu folded again, and marks where one is.
    expect(organisations).to_be_hidden()
    expect(organisations).to_have_attribute("aria-current", "page")
    assert_accessible(page)


def test_the_menu_is_folded_on_a_phone_held_sideways(page):
    page.set_viewport_size(PHONE_SIDEWAYS)
    log_in(page, demo.ACCOUNTS["coordinator"])
    expect(toggle(page)).to_be_visible()
    expect(menu_link(page, "/admin/organisations")).to_be_hidden()


def test_the_whole_menu_is_shown_at_a_desktop_width(page):
    page.set_viewport_size(DESKTOP)
    log_in(page, demo.ACCOUNTS["coordinator"])
    page.goto("/bookings")
    expect(toggle(page)).to_be_hidden()
    menu = page.get_by_role("navigation", name="Hovedmenu")
    # One row: every item of the menu at the same height.
    tops = menu.locator(":scope > ul > li").evaluate_all("items => items.map(i => i.getBoundingClientRect().top)")
    assert len(set(tops)) == 1, tops
    # The staff's tools open below "Administration", without JavaScript.
    expect(menu.get_by_role("link", name="Organisationer")).to_be_hidden()
    menu.locator(".nav-more summary").click()
    for name in (
        "Aktiviteter",
        "Bookinger",
        "Organisationer",
        "E-mails, der ikke er leveret",
        "Min profil",
    ):
        expect(menu.get_by_role("link", name=name)).to_be_visible()
    expect(menu.get_by_role("button", name="Log ud")).to_be_visible()
    expect(menu.get_by_role("link", name="Bookinger")).to_have_attribute("aria-current", "page")
    assert_accessible(page)


def test_the_approval_queue_fits_a_phone(page):
    page.set_viewport_size(PHONE)
    log_in(page, demo.ACCOUNTS["coordinator"])
    page.goto("/bookings")
    expect(page.get_by_role("heading", name=QUEUE)).to_be_visible()
    rows = page.locator("main table tbody tr")
    expect(rows.first).to_be_visible()  # the demo data has bookings awaiting approval

    first = rows.first
    # Where they are without scrolling sideways (x does not change with scrolling down).
    for control in (
        first.get_by_role("checkbox"),
        first.get_by_role("button", name="Godkend"),
        first.get_by_role("button", name="Afvis"),
    ):
        box = control.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    no_sideways_scrolling(page)

    # Still a table to a screen reader, with its column headings.
    expect(page.get_by_role("table", name="Bookinger")).to_be_attached()
    expect(page.get_by_role("columnheader")).to_have_count(7)
    # The card's visible "Vælg <school> · <class>" ticks the booking for the bulk approval.
    first.get_by_text(re.compile(r"^Vælg .+ · .+$")).click()
    expect(first.get_by_role("checkbox")).to_be_checked()
    # The reason for declining has a visible name, not only a placeholder.
    reason = first.get_by_label("Begrundelse for afvisningen (sendes til læreren)")
    expect(reason).to_be_visible()
    expect(first.get_by_text("Begrundelse for afvisningen (sendes til læreren)")).to_be_visible()
    assert_accessible(page)


def test_a_phone_without_javascript_opens_the_menu_and_approves_from_the_queue(
    browser, live_server
):
    context = browser.new_context(
        base_url=live_server, java_script_enabled=False, locale="da-DK", viewport=PHONE
    )
    page = context.new_page()
    try:
        log_in(page, demo.ACCOUNTS["coordinator"])
        page.goto("/bookings")
        expect(menu_link(page, "/admin/users")).to_be_hidden()
        toggle(page).click()
        page.locator("header .nav-more summary").click()  # the staff's tools, a fold of its own
        expect(menu_link(page, "/admin/users")).to_be_visible()

        last = page.locator("main table tbody tr").last
        last.get_by_role("checkbox").check()
        no_sideways_scrolling(page)
        page.get_by_role("button", name="Godkend de valgte bookinger").click()
        expect(page.get_by_text("De valgte bookinger er godkendt.")).to_be_visible()
    finally:
        context.close()
