"""The confirmation step and the approval queue's bulk bar in a real browser (issue 16, item 5): a
booking cancelled through the dialog (JavaScript) and through the page (without), and a bulk approval
with "Choose all". Every page and dialog passes axe-core at a desktop and a 390 px phone width."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app import demo
from app.accounts.models import Organisation, User
from app.bookings import service as bookings
from app.bookings.models import Booking, BookingStatus
from app.bookings.schemas import BookingIn
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.db import make_engine, utcnow
from tests.browser.conftest import assert_accessible
from tests.browser.test_login import log_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _bookings_on_a_date_of_our_own(url: str, days: int, schools: int) -> tuple[list[int], str]:
    """`schools` pending bookings (the demo teacher's school's first) on a date of their own `days`
    ahead, so that the test does not empty the demo queue other tests look at; with the day as the
    queue's filter."""
    engine = make_engine(url)
    with Session(engine) as db:
        teacher = db.exec(select(User).where(User.email == demo.ACCOUNTS["teacher"])).one()
        provider = db.exec(select(User).where(User.email == demo.ACCOUNTS["provider"])).one()
        offer = Offer(provider_id=provider.organisation_id, type=OfferType.course, status=OfferStatus.published,
                      title=f"Bekræftelsesprøve {days}", grade_min=1, grade_max=10, municipality="Aarhus")
        db.add(offer)
        db.flush()
        starts = utcnow().replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=days)
        session = OfferSession(offer_id=offer.id, starts_at=starts, ends_at=starts + timedelta(hours=2), capacity_pupils=200)
        db.add(session)
        db.commit()
        others = db.exec(select(User).join(Organisation, Organisation.id == User.organisation_id).where(
            User.role == "teacher", User.organisation_id != teacher.organisation_id, User.is_active, Organisation.municipality == "Aarhus",
        )).all()
        teachers = [teacher, *others[: schools - 1]]
        made = [
            bookings.book_session(db, t, BookingIn(session_id=session.id, class_name=f"{i + 5}.x", grade=5, pupils=4), now=utcnow()).id
            for i, t in enumerate(teachers)
        ]
        day = starts.date().isoformat()
    engine.dispose()
    return made, f"/bookings?status=pending&starts_from={day}&starts_before={day}"


def _status(url: str, booking_id: int) -> BookingStatus:
    engine = make_engine(url)
    with Session(engine) as db:
        status = db.get(Booking, booking_id).status
    engine.dispose()
    return status


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_teacher_cancels_a_booking_through_the_dialog(page: Page, live_database_url, viewport):
    page.set_viewport_size(viewport)
    (booking_id,), _queue = _bookings_on_a_date_of_our_own(live_database_url, 60 + (viewport == PHONE), 1)
    log_in(page, demo.ACCOUNTS["teacher"])
    page.goto(f"/bookings/{booking_id}")
    opener = page.get_by_role("link", name="Afbestil booking …")
    assert_accessible(page)

    opener.click()
    dialog = page.get_by_role("dialog", name="Afbestil bookingen?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Skolens lærer og udbyderen får besked")
    expect(dialog.get_by_label("Begrundelse for afbestilling (valgfrit)")).to_be_focused()  # the step's field first
    assert page.url.endswith(f"/bookings/{booking_id}")  # a dialog on the page, not the page of the step
    assert_accessible(page)
    page.keyboard.press("Escape")  # Esc closes it, and the keyboard is back where it was
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    assert _status(live_database_url, booking_id) == BookingStatus.pending

    opener.click()
    dialog.get_by_role("link", name="Fortryd").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert _status(live_database_url, booking_id) == BookingStatus.pending

    opener.click()
    dialog.get_by_label("Begrundelse for afbestilling (valgfrit)").fill("Bussen kommer ikke")
    dialog.get_by_role("button", name="Afbestil booking").click()
    expect(page.get_by_text("Bookingen er afbestilt.")).to_be_visible()
    assert _status(live_database_url, booking_id) == BookingStatus.cancelled
    assert_accessible(page)
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_without_javascript_the_step_is_a_page(browser, live_server, live_database_url):
    (booking_id,), _queue = _bookings_on_a_date_of_our_own(live_database_url, 62, 1)
    context = browser.new_context(base_url=live_server, java_script_enabled=False, locale="da-DK", viewport=PHONE)
    page = context.new_page()
    try:
        log_in(page, demo.ACCOUNTS["teacher"])
        page.goto(f"/bookings/{booking_id}")
        page.get_by_role("link", name="Afbestil booking …").click()
        expect(page.get_by_role("heading", level=1, name="Afbestil bookingen?")).to_be_visible()
        assert page.url.endswith(f"/bookings/{booking_id}/cancel")
        page.get_by_role("link", name="Fortryd").click()  # back, nothing done
        assert page.url.endswith(f"/bookings/{booking_id}")
        assert _status(live_database_url, booking_id) == BookingStatus.pending
        page.get_by_role("link", name="Afbestil booking …").click()
        page.get_by_role("button", name="Afbestil booking").click()
        expect(page.get_by_text("Bookingen er afbestilt.")).to_be_visible()
        assert _status(live_database_url, booking_id) == BookingStatus.cancelled
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_coordinator_approves_a_days_bookings_with_choose_all(page: Page, live_database_url, viewport):
    page.set_viewport_size(viewport)
    made, queue = _bookings_on_a_date_of_our_own(live_database_url, 64 + (viewport == PHONE), 3)
    log_in(page, demo.ACCOUNTS["coordinator"])
    page.goto(queue)
    expect(page.get_by_text("De mest presserende først")).to_be_visible()
    bar = page.locator(".bulk-bar")
    expect(bar).to_be_in_viewport()  # at the bottom of the window, however long the queue
    assert_accessible(page)

    page.get_by_role("button", name="Afvis de valgte bookinger").click()  # nothing ticked, no reason
    expect(page.get_by_text("Intet blev afvist")).to_be_visible()

    choose_all = page.get_by_label("Vælg alle bookinger på siden")
    choose_all.check()
    for booking_id in made:
        expect(page.locator(f"#pick-{booking_id}")).to_be_checked()
    page.locator(f"#pick-{made[0]}").uncheck()
    assert page.evaluate("document.getElementById('select-all').indeterminate")
    choose_all.check()
    page.get_by_role("button", name="Afvis de valgte bookinger").click()  # without a reason: refused
    expect(page.locator("#bulk-reason-error")).to_contain_text("Skriv til læreren")
    assert_accessible(page)
    assert [_status(live_database_url, b) for b in made] == [BookingStatus.pending] * 3
    for booking_id in made:  # still ticked
        expect(page.locator(f"#pick-{booking_id}")).to_be_checked()

    page.get_by_role("button", name="Godkend de valgte bookinger").click()
    expect(page.get_by_text("De valgte bookinger er godkendt.")).to_be_visible()
    assert [_status(live_database_url, b) for b in made] == [BookingStatus.confirmed] * 3
    assert_accessible(page)
