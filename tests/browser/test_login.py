"""A person in a real browser: logs in, moves around, logs out; every page passes axe-core."""

import re

import pytest
from playwright.sync_api import expect

from app import demo
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mailadresse").fill(email)
    page.get_by_label("Adgangskode").fill(demo.PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    # On a phone "Log ud" is there but folded away in the menu (tests/browser/test_phone_layout.py).
    expect(page.get_by_role("button", name="Log ud", include_hidden=True)).to_be_attached()


def log_out(page) -> None:
    """Log out and wait until it is done: asking for /login before then would find the user still
    logged in. On a phone the menu is opened first."""
    folded = page.locator("details.menu-toggle:not([open]) > summary")
    if folded.is_visible():
        folded.click()
    page.get_by_role("button", name="Log ud").click()
    expect(page.get_by_text("Du er logget ud")).to_be_visible()


def test_teacher_logs_in_and_out(page):
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name="Log ind for at booke").click()
    expect(page.get_by_role("heading", name="Log ind")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("E-mailadresse").fill(demo.ACCOUNTS["teacher"])
    page.get_by_label("Adgangskode").fill("forkert adgangskode")
    page.get_by_role("button", name="Log ind").click()
    expect(page.locator("#password-error")).to_be_visible()
    assert_accessible(page)  # the page with its error messages

    page.get_by_label("Adgangskode").fill(demo.PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_text("Lærke Lærer")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Min profil").click()
    expect(page.get_by_role("heading", name="Min profil")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Log ud").click()
    expect(page.get_by_text("Du er logget ud")).to_be_visible()
    page.goto("/profile")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fprofile$"))
    assert page.console_errors == []


def test_coordinator_pages_are_accessible_and_filter_live(page):
    log_in(page, demo.ACCOUNTS["coordinator"])
    page.locator("header .nav-more summary").click()  # the staff's tools: "Administration" in the menu
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Organisationer").click()
    expect(page.get_by_role("heading", name="Organisationer")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Søg på navn").fill("Viborg")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    assert "q=Viborg" in page.url  # the filter is kept in the address, so it can be shared
    page.get_by_role("link", name="Viborg Katedralskole").click()
    assert_accessible(page)

    page.goto("/admin/users/new")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page)


def test_english_is_one_click_away(page):
    page.goto("/login")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page)


def test_skip_link_is_the_first_thing_the_keyboard_reaches(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Gå til indhold"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_log_in_works_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, demo.ACCOUNTS["admin"])
        page.goto("/admin/organisations?q=Aarhus")
        expect(page.locator("#results")).to_contain_text("Aarhus Universitet")
    finally:
        context.close()
