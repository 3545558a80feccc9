"""The Girls Day booking form in a real browser, at desktop width and on a 390 px phone, with axe on
every page: it asks for the number of girls only, shows the group size and the open draw before
the teacher submits, and its live check refuses what the booking itself refuses, in the same words."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from app import demo
from app.accounts.models import User
from app.bookings.models import AllocationRound
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.db import make_engine, utcnow
from tests.browser.conftest import assert_accessible
from tests.browser.test_login import log_in

pytestmark = pytest.mark.browser
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def girls_day_with_draw(live_database_url) -> int:
    """A girls-only Girls Day date of the demo provider for 12-28 girls per booking, whose places
    are given by a draw that is open."""
    engine = make_engine(live_database_url)
    with Session(engine) as db:
        provider = db.exec(select(User).where(User.email == demo.ACCOUNTS["provider"])).one()
        offer = Offer(provider_id=provider.organisation_id, type=OfferType.girls_day, status=OfferStatus.published,
                      title="Girls Day: Byg en drone", summary="Byg og flyv en drone", grade_min=6, grade_max=10,
                      municipality="Aarhus", girls_only=True, min_pupils=12, max_pupils=28, published_at=utcnow())
        db.add(offer)
        db.flush()
        starts = (utcnow() + timedelta(days=75)).replace(hour=8, minute=0, second=0, microsecond=0)
        session = OfferSession(offer_id=offer.id, starts_at=starts, ends_at=starts + timedelta(hours=4), capacity_pupils=60)
        db.add_all([session, AllocationRound(offer_id=offer.id, closes_at=utcnow() + timedelta(days=20), seed="d" * 64, created_at=utcnow())])
        db.commit()
        session_id = session.id
    engine.dispose()
    return session_id


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_girls_day_form_asks_for_girls_shows_the_rules_and_refuses_live_as_the_booking_does(page, girls_day_with_draw, width):
    page.set_viewport_size(WIDTHS[width])
    log_in(page, demo.ACCOUNTS["teacher"])
    page.goto(f"/sessions/{girls_day_with_draw}/book")
    # Before anything is typed: one number (the girls), the group size and the draw.
    expect(page.get_by_label("Antal piger")).to_be_visible()
    expect(page.locator("#girls")).to_have_count(0)
    expect(page.get_by_text("12–28 piger pr. booking")).to_be_visible()
    expect(page.get_by_text("ikke efter først til mølle")).to_be_visible()
    if width == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS["phone"]["width"]
    assert_accessible(page)

    page.get_by_label("Klasse", exact=True).fill(f"8.{width[0]}")
    page.get_by_label("Klassetrin").select_option("8")
    page.get_by_label("Antal piger").fill("5")
    live = page.locator("#places")
    expect(live).to_contain_text("Mindst 12 elever pr. booking.")  # the live check, while typing
    assert_accessible(page)
    page.get_by_role("button", name="Book", exact=True).click()
    # The booking refuses it with the very words the live check used.
    expect(page.locator(".error-summary a[href='#pupils']")).to_have_text("Antal piger: Mindst 12 elever pr. booking.")
    assert_accessible(page)

    page.get_by_label("Antal piger").fill("14")
    expect(live).to_contain_text("kommer med i lodtrækningen")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_text("Med i lodtrækningen").first).to_be_visible()
    expect(page.get_by_text("på ventelisten")).to_have_count(0)  # a request in a draw is no place in a queue
    expect(page.get_by_text("14 (14 piger)")).to_be_visible()  # stored as 14 pupils, all girls
    assert_accessible(page)
