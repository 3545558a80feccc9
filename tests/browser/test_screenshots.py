"""Pictures of the portal's main pages at a desktop and a phone width, saved as <page>-<width>.png
in test-artifacts/screenshots/ (CI's artefacts), or with SCREENSHOTS_DIR=docs/screenshots in the
copies the README shows, so that a reader sees the portal without running it. Each page passes axe-core at both widths. The pictures are of the first screen, not
the whole page, to keep them small; they are made from the demo data, so they differ a little from
one run to the next (dates, figures)."""

import os
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from app import demo
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.db import make_engine, utcnow
from tests.browser.conftest import ROOT, assert_accessible
from tests.browser.test_login import log_in, log_out

pytestmark = pytest.mark.browser

SHOTS = ROOT / os.environ.get("SCREENSHOTS_DIR", "test-artifacts/screenshots")
WIDTHS = {1280: 800, 390: 844}  # width: height of the screen


def a_bookable_date(live_database_url: str) -> tuple[int, int]:
    """An offer and one of its dates a teacher can book from the form: a company week or a course
    with a date some weeks ahead."""
    with Session(make_engine(live_database_url)) as db:
        offer_id, session_id = db.exec(
            select(Offer.id, OfferSession.id)
            .join(OfferSession, col(OfferSession.offer_id) == Offer.id)
            .where(
                Offer.status == OfferStatus.published,
                col(Offer.type).in_([OfferType.company_week, OfferType.course]),
                col(Offer.girls_only).is_(False),
                col(OfferSession.cancelled_at).is_(None),
                OfferSession.starts_at > utcnow() + timedelta(days=21),
            )
            .order_by(OfferSession.starts_at)
            .limit(1)
        ).one()
        return offer_id, session_id


def shoot(page: Page, name: str) -> None:
    """The page at each width: axe first, then the picture."""
    for width, height in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        assert_accessible(page)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name} is {wide} px wide at {width}"
        path = SHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), animations="disabled", caret="hide")
        assert path.stat().st_size < 400_000, f"{path} is large"


def test_screenshots_of_the_main_pages(page, live_database_url):
    SHOTS.mkdir(parents=True, exist_ok=True)
    offer_id, session_id = a_bookable_date(live_database_url)

    page.goto("/")
    shoot(page, "home")
    page.goto("/catalogue")
    expect(page.locator(".offer-card").first).to_be_visible()
    shoot(page, "catalogue")
    page.goto(f"/offers/{offer_id}")
    shoot(page, "offer")
    page.goto("/barometer")
    shoot(page, "barometer")

    log_in(page, demo.ACCOUNTS["teacher"])
    page.goto(f"/sessions/{session_id}/book")
    expect(page.locator("main form")).to_be_visible()
    shoot(page, "booking-form")
    page.goto("/bookings")
    shoot(page, "teacher-bookings")
    page.goto("/calendar")
    shoot(page, "calendar")
    log_out(page)

    log_in(page, demo.ACCOUNTS["coordinator"])
    page.goto("/bookings")
    shoot(page, "approval-queue")
    assert page.console_errors == []
