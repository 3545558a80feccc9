"""The STEM barometer in a real browser: an anonymous visitor reads it on a desktop and on a phone,
switches year and municipality and downloads the CSV; a coordinator sets a target and sees it on
the page. Every page visited passes axe-core."""

import csv
import re

import pytest
from playwright.sync_api import expect

from app import demo
from app.db import utcnow
from app.i18n import TIMEZONE
from tests.browser.conftest import assert_accessible
from tests.browser.test_login import log_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def fits_the_screen(page) -> None:
    """Nothing but the tables' own scroll regions is wider than the screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width} px wide"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_visitor_reads_the_barometer_switches_year_and_municipality_and_downloads_the_csv(page, viewport, tmp_path):
    page.set_viewport_size(viewport)
    this_year = utcnow().astimezone(TIMEZONE).year
    page.goto("/barometer")
    expect(page.locator("h1")).to_contain_text(re.compile("barometer", re.I))
    expect(page.locator("#figures-heading")).to_contain_text(str(this_year))
    expect(page.locator(".barometer-card")).not_to_have_count(0)
    for chart in ("chart-trend", "chart-types", "chart-municipalities"):
        expect(page.locator(f"svg[role=img][aria-labelledby='{chart}-title']")).to_be_visible()
    expect(page.locator("#municipalities-caption")).to_be_attached()
    expect(page.locator("table:has(#municipalities-caption) tbody tr")).to_have_count(19)
    assert_accessible(page)
    fits_the_screen(page)

    # On a phone the filters are folded away until opened; on a desktop they are in view.
    filters = page.locator("details.folded-filters > summary")
    if viewport == PHONE:
        expect(page.locator("#year")).to_be_hidden()
        filters.click()
    else:
        expect(filters).to_be_hidden()
    expect(page.locator("#year")).to_be_visible()

    # Last year: htmx replaces the figures and the address follows.
    page.locator("#year").select_option(str(this_year - 1))
    expect(page.locator("#figures-heading")).to_contain_text(str(this_year - 1))
    expect(page).to_have_url(re.compile(rf"year={this_year - 1}"))

    page.locator("#municipality").select_option("Aarhus")
    expect(page.locator("#figures-heading")).to_contain_text("Aarhus")
    expect(page.locator("tr.chosen th")).to_have_text("Aarhus")
    expect(page).to_have_url(re.compile(r"municipality=Aarhus"))
    assert_accessible(page)
    fits_the_screen(page)

    # The same choice as a CSV file, parsed.
    link = page.locator("a[href^='/api/v1/barometer.csv']").first
    expect(link).to_have_attribute("href", re.compile(rf"year={this_year - 1}.*municipality=Aarhus"))
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "barometer.csv"
    download.value.save_as(saved)
    with saved.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows, "the CSV has no rows"
    assert {"bookings", "pupils", "girls"} <= set(rows[0])
    assert str(this_year - 1) in " ".join(rows[0].values())
    assert all(value == "" or re.fullmatch(r"-?[\d.]+|[\w\s/:+.-]+", value) for value in rows[0].values())


def test_a_coordinator_sets_a_target_and_sees_it_on_the_barometer(page):
    this_year = utcnow().astimezone(TIMEZONE).year
    log_in(page, demo.ACCOUNTS["coordinator"])
    page.goto("/barometer/targets")
    assert_accessible(page)

    form = page.locator("form[action='/barometer/targets']:has(#indicator)")
    form.locator("button[type=submit]").click()  # nothing chosen: every error beside its field
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page)

    form.locator("#indicator").select_option("pupils")
    form.locator("#year").fill(str(this_year))
    if form.locator("select#municipality").count():
        form.locator("#municipality").select_option("")
    form.locator("#value").fill("123456")
    form.locator("#note").fill("Pagtens mål for browsertesten")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"notice=saved"))
    expect(page.locator("table")).to_contain_text("Pagtens mål for browsertesten")
    assert_accessible(page)

    page.goto("/barometer")
    goal = page.locator(".target-item", has_text="Pagtens mål for browsertesten")
    expect(goal).to_contain_text("123.456")
    assert_accessible(page)

    # The national statistics' import: a wrong row is named, and nothing is imported.
    page.goto("/barometer/national")
    assert_accessible(page)
    page.locator("#csv_text").fill("indicator;year;municipality;value\nstem_start_share;2025;Atlantis;12,5\n")
    page.locator("form[action='/barometer/national'] button[type=submit]").click()
    expect(page.locator(".row-errors li")).to_have_count(1)
    expect(page.locator(".row-errors li")).to_contain_text("Atlantis")
    assert_accessible(page)
    page.locator("#csv_text").fill("indicator;year;municipality;value\nstem_start_share;2025;Aarhus;12,5\n")
    page.locator("form[action='/barometer/national'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"imported=1"))
    page.goto(f"/barometer?year={this_year}")
    expect(page.locator("table:has(#municipalities-caption) tr", has_text="Aarhus")).to_contain_text("12,5")
