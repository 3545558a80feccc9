"""A provider sees who comes to one of its dates in a real browser: the page passes axe-core and the
CSV downloads."""

import re

import pytest
from playwright.sync_api import expect

from app import demo
from tests.browser.conftest import assert_accessible
from tests.browser.test_login import log_in

pytestmark = pytest.mark.browser


def log_out(page) -> None:
    page.get_by_role("button", name="Log ud").click()
    expect(page.get_by_role("link", name="Log ind").first).to_be_visible()


def test_provider_sees_who_comes_and_downloads_the_list(page, tmp_path):
    log_in(page, demo.ACCOUNTS["provider"])
    page.goto("/provider/offers")
    course = page.locator("tbody tr").filter(has_text="Forløb").filter(has_text="Offentliggjort").first
    course.locator("a[href$='/sessions']").click()
    dates = page.locator("a[href$='/attendees']")
    expect(dates.first).to_be_visible()
    attendees = dates.last.get_attribute("href")  # the last date: its booking deadline is far off
    session_id = re.fullmatch(r"/provider/sessions/(\d+)/attendees", attendees).group(1)
    log_out(page)

    log_in(page, demo.ACCOUNTS["teacher"])
    page.goto(f"/sessions/{session_id}/book")
    page.locator("#class_name").fill("9.q")
    page.locator("#pupils").fill("20")
    page.locator("#girls").fill("9")
    page.locator(f"form[action='/sessions/{session_id}/book'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/bookings\b"))  # the booking, or the school's bookings
    expect(page.get_by_text("9.q").first).to_be_visible()
    log_out(page)

    log_in(page, demo.ACCOUNTS["provider"])
    page.goto(attendees)
    table = page.locator("table").first
    expect(table.locator("tbody")).to_contain_text("Frederiksbjerg Skole")
    expect(table.locator("tbody")).to_contain_text("9.q")
    expect(table.locator("tbody")).to_contain_text(demo.ACCOUNTS["teacher"])
    assert_accessible(page)

    with page.expect_download() as info:
        page.locator(f"a[href='/provider/sessions/{session_id}/attendees.csv']").click()
    saved = tmp_path / "list.csv"
    info.value.save_as(saved)
    text = saved.read_bytes().decode("utf-8-sig")
    assert "Frederiksbjerg Skole;Aarhus;9.q;" in text and ";20;9;" in text
    assert page.console_errors == []  # type: ignore[attr-defined]
