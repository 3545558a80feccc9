"""Each role's start page and the public home page in a real browser, at desktop width and on a
390 px phone: what waits for the role is there, every list leads on, and axe finds nothing."""

import re

import pytest
from playwright.sync_api import expect

from app import demo
from tests.browser.conftest import assert_accessible
from tests.browser.test_login import log_in, log_out

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def fits_the_width(page) -> None:
    """Nothing makes the page itself scroll sideways."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
def test_the_public_home_page(page, width):
    page.set_viewport_size(WIDTHS[width])
    page.goto("/")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="Det sker snart")).to_be_visible()
    expect(main.get_by_role("link", name="Alle Girls Day-aktiviteter")).to_be_visible()
    expect(main.get_by_role("heading", name="Sådan kan I være med")).to_be_visible()
    expect(main.get_by_text("Pigernes andel af eleverne")).to_be_visible()
    expect(main.get_by_role("link", name="Bliv ung-til-ung-mentor")).to_be_visible()
    assert_accessible(page)
    fits_the_width(page)
    # The first Girls Day highlight leads to its offer.
    main.locator("#highlight-girls-day ~ ul a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Girls Day")
    assert page.console_errors == []


# What each demo account's start page must show (README: the teacher's school has bookings, the
# provider a full date with two classes waiting, the coordinator an approval queue).
EXPECTED = {
    "teacher": ("Jeres skoles næste bookinger", "Alle jeres skoles bookinger"),
    "provider": ("Jeres næste datoer", "2 klasser venter"),
    "coordinator": ("afventer godkendelse", "Gå til godkendelseskøen"),
    "admin": ("afventer godkendelse", "Se e-mails, der ikke er leveret"),
    "mentor": ("Dine næste vagter", "Alle dine timer og dit bevis"),
}


@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
@pytest.mark.parametrize("role", EXPECTED)
def test_each_role_lands_on_its_start_page(page, role, width):
    page.set_viewport_size(WIDTHS[width])
    log_in(page, demo.ACCOUNTS[role])
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))  # log-in lands on the start page
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_contain_text("Velkommen")
    for text in EXPECTED[role]:
        expect(main.get_by_text(text).first).to_be_visible()
    assert_accessible(page)
    fits_the_width(page)
    if role == "teacher":
        # The next booking's offer title is a link to the booking.
        first = main.locator("#coming ~ ul a").first
        title = first.inner_text()
        first.click()
        expect(page.get_by_text(title).first).to_be_visible()
    log_out(page)
    assert page.console_errors == []
