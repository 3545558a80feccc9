"""A provider publishes a company week, a Girls Day slot and an expert visit in a real browser; a
teacher then finds each of them with the catalogue's filters."""

import re
from datetime import date, timedelta

import holidays
import pytest
from playwright.sync_api import expect

from app import demo
from app.catalogue.holidays import standard_school_holidays
from tests.browser.conftest import assert_accessible
from tests.browser.test_login import log_in, log_out

pytestmark = pytest.mark.browser


def open_weekday(weekday: int, after_days: int) -> date:
    """A date on that weekday, some weeks ahead, that is not a Danish public holiday."""
    day = date.today() + timedelta(days=after_days)
    closed = holidays.Denmark(years=[day.year, day.year + 1])
    breaks = [
        b for year in (day.year - 1, day.year) for _name, *b in standard_school_holidays(year)
    ]
    while (
        day.weekday() != weekday
        or day in closed
        or any(start <= day <= end for start, end in breaks)
    ):
        day += timedelta(days=1)
    return day


def create_offer(page, kind: str, title: str, **extra) -> None:
    page.goto("/provider/offers/new")
    page.locator("#type").select_option(kind)
    page.locator("#title").fill(title)
    page.locator("#summary").fill(f"{title} for en hel klasse.")
    for theme in extra.get("themes", []):
        page.locator(f"#themes-{theme}").check()
    page.locator("#grade_min").select_option(str(extra.get("grade_min", 7)))
    page.locator("#grade_max").select_option(str(extra.get("grade_max", 9)))
    if "lead_days" in extra:
        page.locator("#lead_days").fill(str(extra["lead_days"]))
    page.locator("form[action='/provider/offers/new'] button[type=submit]").click()
    expect(page.locator("h1")).to_have_text(title)


def add_date(
    page, first: date, starts: str, ends: str, last: date | None = None, capacity: int = 28
) -> None:
    form = page.locator("form[action$='/sessions']")
    form.locator("#date").fill(first.isoformat())
    form.locator("#starts").fill(starts)
    if last:
        form.locator("#last_day").fill(last.isoformat())
    form.locator("#ends").fill(ends)
    form.locator("#capacity_pupils").fill(str(capacity))
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"notice=session_added"))


def publish(page) -> None:
    page.locator("button[name=status][value=published]").first.click()
    # The page's address, not a notice: the date just added left one, and leaving before the
    # publishing was answered would cancel it.
    expect(page).to_have_url(re.compile(r"notice=published"))


def test_provider_publishes_three_kinds_and_a_teacher_finds_them(page):
    log_in(page, demo.ACCOUNTS["provider"])

    create_offer(page, "company_week", "Virksomhedsuge i pumpehallen", themes=["industry"])
    assert_accessible(page)  # the dates page, right after creating
    monday = open_weekday(0, 45)
    add_date(page, monday, "08:00", "15:00", last=monday + timedelta(days=4))
    publish(page)

    create_offer(
        page, "girls_day", "Girls Day i laboratoriet", themes=["health"], grade_min=5, grade_max=10
    )
    girls_day = open_weekday(3, 60)
    add_date(page, girls_day, "09:00", "14:00", capacity=60)
    page.get_by_role("link", name=re.compile("Aflys dato")).first.click()
    dialog = page.get_by_role("dialog")  # the step before a date is called off, as a dialog
    expect(dialog.get_by_role("heading")).to_contain_text("Aflys Girls Day i laboratoriet")
    assert_accessible(page)
    dialog.get_by_role("link", name="Fortryd").click()
    expect(dialog).to_have_count(0)
    publish(page)

    create_offer(
        page, "expert", "Book en ingeniør fra pumpehallen", themes=["climate_energy"], lead_days=10
    )
    publish(page)
    expect(page.locator("h1")).to_have_text("Book en ingeniør fra pumpehallen")

    page.goto("/provider/offers/new")
    assert_accessible(page)
    log_out(page)

    log_in(page, demo.ACCOUNTS["teacher"])
    page.goto("/catalogue")
    assert_accessible(page)

    page.locator("#type").select_option("company_week")
    page.locator("#q").fill("pumpehallen")
    expect(page.locator(".offer-card")).to_have_count(1)
    expect(page.locator(".offer-card h2")).to_have_text("Virksomhedsuge i pumpehallen")
    assert "type=company_week" in page.url

    page.locator("#type").select_option("")
    page.locator("#q").fill("")
    page.locator("#girls").check()
    page.locator("#theme").select_option("health")
    expect(page.locator(".offer-card h2", has_text="Girls Day i laboratoriet")).to_have_count(1)

    page.goto("/catalogue?type=expert&theme=climate_energy")
    page.get_by_role("link", name="Book en ingeniør fra pumpehallen").click()
    expect(page.locator("h1")).to_have_text("Book en ingeniør fra pumpehallen")
    assert_accessible(page)

    page.goto("/catalogue?q=Virksomhedsuge+i+pumpehallen")
    page.get_by_role("link", name="Virksomhedsuge i pumpehallen").click()
    expect(page.locator("table")).to_contain_text(str(monday.day))
    assert_accessible(page)

    # ... and sees them in the shared calendar, filtered like the catalogue.
    page.goto(f"/calendar?view=week&date={monday.isoformat()}&q=pumpehallen")
    expect(page.locator("#calendar")).to_contain_text("Virksomhedsuge i pumpehallen")
    page.goto(f"/calendar?view=month&date={girls_day.isoformat()}&girls=1")
    expect(page.locator("#calendar")).to_contain_text("Girls Day i laboratoriet")
    assert_accessible(page)


def test_catalogue_filters_work_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/catalogue")
        page.locator("#girls").check()
        page.locator("form[role=search] button[type=submit]").click()
        assert "girls=1" in page.url
        expect(page.locator(".result-count")).to_be_visible()
    finally:
        context.close()


def test_teacher_books_a_class_and_a_coordinator_approves(page):
    log_in(page, demo.ACCOUNTS["teacher"])
    page.goto("/catalogue?type=course&free=1")
    page.locator(".offer-card h2 a").first.click()
    page.locator("a[href$='/book']").first.click()
    assert_accessible(page)
    page.locator("#class_name").fill("7.x")  # a class name the demo's own bookings never use
    page.locator("#pupils").fill("18")
    page.locator("#girls").fill("9")
    page.locator("form[action$='/book'] button[type=submit]").click()
    expect(page.locator(".notice")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("7.x")  # the booking's own page
    assert_accessible(page)
    log_out(page)

    log_in(page, demo.ACCOUNTS["coordinator"])
    page.goto("/bookings")
    row = page.locator("tr", has_text="7.x")
    row.get_by_role("button", name=re.compile("Godkend")).click()
    expect(page.locator(".notice")).to_be_visible()
    assert_accessible(page)
