"""Booking rules, one request at a time: capacity in pupils and classes, approval, waiting list,
cancellation with promotion, idempotency, conflicts and bad input."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.accounts.models import Organisation
from app.bookings import service as bookings
from app.bookings.models import Booking, BookingEvent, BookingStatus
from app.bookings.schemas import BookingIn
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.errors import Conflict, Forbidden, InvalidInput
from tests.factories import make_provider, make_school, make_user

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(db):
    provider_org = make_provider(db)
    offer = Offer(provider_id=provider_org.id, type=OfferType.course, status=OfferStatus.published, title="Robotter",
                  grade_min=5, grade_max=9, municipality="Aarhus", requires_approval=True, max_pupils=30)
    db.add(offer)
    db.flush()
    starts = NOW + timedelta(days=30)
    session = OfferSession(offer_id=offer.id, starts_at=starts, ends_at=starts + timedelta(hours=3), capacity_pupils=50, capacity_classes=2)
    db.add(session)
    db.commit()
    teachers = [make_user(db, "teacher", organisation=make_school(db)) for _ in range(4)]
    return offer, session, teachers


def book(db, teacher, session, pupils=20, *, key=None, **extra):
    data = BookingIn(session_id=session.id, class_name=extra.pop("class_name", "7.a"), grade=extra.pop("grade", 7), pupils=pupils, **extra)
    return bookings.book_session(db, teacher, data, now=NOW, idempotency_key=key)


def test_pending_bookings_hold_seats_until_their_deadline(db, world):
    _offer, session, (a, b, c, _d) = world
    first = book(db, a, session, 25)
    assert first.status == BookingStatus.pending and first.hold_until == NOW + bookings.APPROVAL_TIME
    assert bookings.held(db, [session.id], now=NOW)[session.id] == (25, 1)
    # After the deadline a pending booking holds nothing, with no job having run.
    assert bookings.held(db, [session.id], now=first.hold_until + timedelta(seconds=1)) == {}


def test_capacity_in_pupils_and_classes(db, world):
    _offer, session, (a, b, c, _d) = world
    book(db, a, session, 25)
    with pytest.raises(bookings.SessionFull):
        book(db, b, session, 26)  # 51 pupils > 50
    book(db, b, session, 25)
    with pytest.raises(bookings.SessionFull):
        book(db, c, session, 1)  # a third class > 2 classes
    assert db.exec(select(Booking).where(Booking.teacher_id == c.id)).all() == []


def test_full_session_waitlists_and_nobody_jumps_the_queue(db, world):
    _offer, session, (a, b, c, d) = world
    first = book(db, a, session, 30)
    waiting = book(db, b, session, 30, waitlist=True)
    assert waiting.status == BookingStatus.waitlisted and bookings.waitlist_position(db, waiting) == 1
    # 20 places are free, but the queue is not empty: a newcomer must queue too.
    with pytest.raises(bookings.SessionFull):
        book(db, c, session, 10)
    small = book(db, d, session, 10, waitlist=True)
    assert bookings.waitlist_position(db, small) == 2

    coordinator = make_user(db, "coordinator")
    bookings.cancel_booking(db, coordinator, first.id, reason="", now=NOW)
    db.refresh(waiting)
    db.refresh(small)
    assert waiting.status == BookingStatus.pending and small.status == BookingStatus.pending
    events = db.exec(select(BookingEvent).where(BookingEvent.booking_id == waiting.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == [(None, BookingStatus.waitlisted), (BookingStatus.waitlisted, BookingStatus.pending)]


def test_a_later_waiting_class_that_fits_passes_one_that_does_not(db, world):
    _offer, session, (a, b, c, _d) = world
    first = book(db, a, session, 30)
    book(db, b, session, 20)  # 50 of 50
    big = book(db, c, session, 30, waitlist=True)
    small = book(db, _d, session, 15, waitlist=True)
    bookings.cancel_booking(db, a, first.id, reason="", now=NOW)  # the teacher cancels in good time
    db.refresh(big)
    db.refresh(small)
    assert big.status == BookingStatus.pending  # 30 fits the 30 freed
    assert small.status == BookingStatus.waitlisted


def test_approve_and_decline(db, world):
    offer, session, (a, b, _c, _d) = world
    pending = book(db, a, session, 10)
    own_provider = make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id))
    with pytest.raises(Forbidden):
        bookings.approve_booking(db, own_provider, pending.id, now=NOW)
    confirmed = bookings.approve_booking(db, make_user(db, "coordinator"), pending.id, now=NOW)
    assert confirmed.status == BookingStatus.confirmed and confirmed.hold_until is None
    with pytest.raises(Conflict):
        bookings.approve_booking(db, make_user(db, "coordinator"), pending.id, now=NOW)
    other = book(db, b, session, 10, class_name="8.b")
    declined = bookings.decline_booking(db, make_user(db, "admin"), other.id, reason="Passer ikke", now=NOW)
    assert declined.status == BookingStatus.declined and declined.reason == "Passer ikke"
    assert bookings.held(db, [session.id], now=NOW)[session.id] == (10, 1)


def test_offers_without_approval_confirm_at_once(db, world):
    offer, session, (a, *_rest) = world
    offer.requires_approval = False
    db.add(offer)
    db.commit()
    assert book(db, a, session, 10).status == BookingStatus.confirmed


def test_idempotency_key_books_once_and_refuses_another_body(db, world):
    _offer, session, (a, *_rest) = world
    first = book(db, a, session, 10, key="k-1")
    again = book(db, a, session, 10, key="k-1")
    assert again.id == first.id
    assert len(db.exec(select(Booking)).all()) == 1
    with pytest.raises(Conflict):
        book(db, a, session, 11, key="k-1")


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"grade": 2}, InvalidInput, "grade"),
        ({"pupils": 31}, InvalidInput, "pupils"),
    ],
)
def test_bad_bookings_are_refused(db, world, change, error, field):
    _offer, session, (a, *_rest) = world
    with pytest.raises(error) as refused:
        book(db, a, session, **{"pupils": 10, **change})
    assert refused.value.field == field


def test_girls_cannot_outnumber_pupils():
    with pytest.raises(ValueError, match="girls"):
        BookingIn(session_id=1, class_name="7.a", grade=7, pupils=10, girls=11)


def test_no_booking_after_the_deadline_or_in_a_cancelled_session(db, world):
    _offer, session, (a, b, *_rest) = world
    session.booking_deadline = NOW - timedelta(hours=1)
    db.add(session)
    db.commit()
    with pytest.raises(Conflict):
        book(db, a, session)
    session.booking_deadline, session.cancelled_at = None, NOW
    db.add(session)
    db.commit()
    with pytest.raises(Conflict):
        book(db, b, session)


def test_a_class_cannot_be_in_two_overlapping_activities(db, world):
    offer, session, (a, *_rest) = world
    other = OfferSession(offer_id=offer.id, starts_at=session.starts_at + timedelta(hours=1), ends_at=session.ends_at + timedelta(hours=1), capacity_pupils=50)
    db.add(other)
    db.commit()
    book(db, a, session, 10, class_name="7.A")
    with pytest.raises(Conflict):
        book(db, a, other, 10, class_name="7.a")
    book(db, a, other, 10, class_name="7.b")


def test_late_cancellation_needs_a_reason(db, world):
    _offer, session, (a, *_rest) = world
    booking = book(db, a, session, 10)
    late = session.starts_at - timedelta(days=1)
    with pytest.raises(InvalidInput):
        bookings.cancel_booking(db, a, booking.id, reason="", now=late)
    cancelled = bookings.cancel_booking(db, a, booking.id, reason="Sygdom", now=late)
    assert cancelled.late_cancellation and cancelled.status == BookingStatus.cancelled
    with pytest.raises(Conflict):
        bookings.cancel_booking(db, a, booking.id, reason="igen", now=late)


def test_the_catalogue_shows_free_places_after_bookings(db, world):
    from app.catalogue.service import CatalogueFilters, search_offers

    offer, session, (a, b, *_rest) = world
    book(db, a, session, 25)
    book(db, b, session, 25)  # full: 50 of 50
    (hit,), _total = search_offers(db, CatalogueFilters(q="Robotter"), now=NOW)
    assert hit.free_pupils[session.id] == 0
    assert search_offers(db, CatalogueFilters(q="Robotter", free_places=True), now=NOW)[1] == 0
