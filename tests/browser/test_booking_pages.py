"""Every page of the booking engine, as the people who use it reach it, passes axe-core (WCAG 2.1
AA), on the live portal with the demo data: inbox, a booking's page, proposals, shared capacity,
school caps and allocation rounds. Forms on them are used with the keyboard where it matters."""

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from app import demo
from app.accounts.models import User
from app.catalogue.models import Offer, OfferStatus, OfferType
from app.db import make_engine
from tests.browser.conftest import assert_accessible
from tests.browser.test_login import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_offers(live_database_url) -> dict[str, int]:
    """An expert offer and a Girls Day offer of the demo provider, by id."""
    engine = make_engine(live_database_url)
    with Session(engine) as db:
        provider = db.exec(select(User).where(User.email == demo.ACCOUNTS["provider"])).one()
        found = {}
        for kind in (OfferType.expert, OfferType.girls_day, OfferType.course):
            offer = db.exec(
                select(Offer).where(Offer.type == kind, Offer.status == OfferStatus.published).order_by(
                    (Offer.provider_id != provider.organisation_id), Offer.id
                )
            ).first()
            found[kind.value] = offer.id
    engine.dispose()
    return found


def test_teacher_pages(page, demo_offers):
    log_in(page, demo.ACCOUNTS["teacher"])
    page.get_by_role("link", name=re.compile(r"^Indbakke")).click()
    expect(page.get_by_role("heading", name="Indbakke")).to_be_visible()
    assert_accessible(page)
    page.goto(f"/offers/{demo_offers['expert']}/propose")
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Send forslaget").click()  # sent empty: the form says what is missing
    expect(page.locator(".error-summary, [role=alert]").first).to_be_visible()
    assert_accessible(page)
    page.goto("/proposals")
    assert_accessible(page)
    page.goto("/bookings")
    assert_accessible(page)


def test_provider_pages(page, demo_offers):
    log_in(page, demo.ACCOUNTS["provider"])
    for path in ("/provider/proposals", "/provider/pools", f"/offers/{demo_offers['girls_day']}/rounds", "/bookings", "/inbox"):
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page)
    page.goto("/provider/pools")
    page.get_by_label("Navn").first.fill("Uge 45")
    page.locator("input[name=capacity_classes]").first.fill("6")
    page.locator("input[name=capacity_classes]").first.press("Enter")
    expect(page.get_by_text("Uge 45").first).to_be_visible()
    assert_accessible(page)  # the pool's own page with its dates to tick


def test_coordinator_pages(page, demo_offers):
    log_in(page, demo.ACCOUNTS["coordinator"])
    for path in ("/admin/caps", "/admin/outbox", "/rounds", f"/offers/{demo_offers['girls_day']}/rounds", "/bookings?status=confirmed&type=course"):
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        assert_accessible(page)
