"""A teacher uses the shared calendar in a real browser: month, week and agenda pass axe-core, the
keyboard reaches the next-month link, and htmx swaps only the calendar (and it works without it)."""

import re

import pytest
from playwright.sync_api import expect

from app import demo
from tests.browser.conftest import assert_accessible
from tests.browser.test_login import log_in

pytestmark = pytest.mark.browser


def test_teacher_moves_through_month_week_and_agenda(page):
    log_in(page, demo.ACCOUNTS["teacher"])
    page.locator("nav.nav, header nav").get_by_role("link", name=re.compile("^(Kalender|Calendar)$")).click()
    expect(page.locator("table.calendar-month")).to_be_visible()
    expect(page.locator('table.calendar-month td[aria-current="date"]')).to_have_count(1)
    assert_accessible(page)

    # The keyboard reaches "next month" by tabbing from the top of the page.
    page.locator("body").focus()
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "calendar-next":
            break
    else:
        pytest.fail("Tab never reached the next-month link")

    month = page.locator("#calendar-title").inner_text()
    page.evaluate("document.body.dataset.notReloaded = 'yes'")
    page.keyboard.press("Enter")
    expect(page.locator("#calendar-title")).not_to_have_text(month)
    next_month = page.locator("#calendar-title").inner_text()
    assert page.evaluate("document.body.dataset.notReloaded") == "yes"  # htmx swapped the calendar only
    assert re.search(r"view=month&date=\d{4}-\d\d-01", page.url)  # and the address follows
    assert page.evaluate("document.activeElement.id") == "calendar-next"  # focus stays where it was
    expect(page.locator("#calendar-status")).to_have_text(next_month)  # announced to screen readers
    assert_accessible(page)

    page.locator("#calendar-view-week").click()
    expect(page.locator(".calendar-week h3")).to_have_count(7)
    assert "view=week" in page.url
    assert_accessible(page)

    page.locator("#calendar-view-agenda").click()
    expect(page.locator(".calendar-agenda")).to_be_visible()
    expect(page.locator(".calendar-agenda .calendar-entry").first).to_be_visible()
    assert_accessible(page)

    page.locator("#calendar-filter").evaluate("button => button.closest('details').open = true")
    page.locator("#grade").select_option("8")
    page.locator("#calendar-filter").click()
    expect(page).to_have_url(re.compile(r"grade=8"))
    assert_accessible(page)

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"grade=8"))
    expect(page.locator(".calendar-agenda")).to_be_visible()

    # Subscribing: the new address is shown once, and it serves a calendar until it is stopped.
    # A plain form post (not boosted): the secret address is shown once on the page that follows.
    page.locator("form[action='/calendar/feed/new'] button").click()
    page.wait_for_load_state()
    expect(page.locator("#feed-url")).to_have_value(re.compile(r"/calendar/feed/[\w-]+\.ics$"))
    assert_accessible(page)
    feed_path = "/calendar/feed/" + page.locator("#feed-url").input_value().split("/calendar/feed/")[1]
    feed = page.request.get(feed_path)
    assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
    page.reload()
    expect(page.locator("#feed-url")).to_have_count(0)
    page.locator("form[action='/calendar/feed/revoke'] button").click()
    expect(page.locator("form[action='/calendar/feed/revoke']")).to_have_count(0)
    assert page.request.get(feed_path).status == 404
    assert page.console_errors == []


def test_the_calendar_works_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/calendar?view=week")
        week = page.locator("#calendar-title").inner_text()
        page.locator("#calendar-next").click()
        expect(page.locator("#calendar-title")).not_to_have_text(week)
        assert "view=week" in page.url
        page.locator("#calendar-view-month").click()
        expect(page.locator("table.calendar-month")).to_be_visible()
    finally:
        context.close()
