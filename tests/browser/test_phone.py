"""On a phone: no page of the weekly work is wider than the screen (tables scroll in their own
box), so nobody has to scroll the whole page sideways to reach a button."""

import pytest

from app import demo
from tests.browser.test_login import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
PAGES = {
    "teacher": ["/", "/catalogue", "/calendar", "/bookings", "/proposals", "/inbox", "/profile"],
    "coordinator": ["/bookings", "/admin/holidays", "/admin/caps", "/rounds", "/admin/outbox", "/admin/users", "/admin/organisations"],
    "provider": ["/provider/offers", "/provider/proposals", "/provider/pools"],
}


@pytest.mark.parametrize("role", sorted(PAGES))
def test_no_page_is_wider_than_a_phone(page, role):
    page.set_viewport_size(PHONE)
    log_in(page, demo.ACCOUNTS[role])
    too_wide = {}
    for url in PAGES[role]:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[url] = width
    assert too_wide == {}
