"""Booking rules, one request at a time: capacity in pupils and classes, approval, waiting list,
cancellation with promotion, idempotency, conflicts and bad input."""

from datetime import timedelta

import pytest
from sqlmodel import col, select

from app.accounts.models import Organisation
from app.bookings import service as bookings
from app.bookings.models import Booking, BookingEvent, BookingStatus, SchoolCap
from app.bookings.notices import tell_about_new_bookings
from app.bookings.schemas import BookingIn
from app.catalogue.models import OfferSession
from app.errors import Conflict, Forbidden, InvalidInput
from app.notifications.models import Notification, OutboxMessage
from tests.bookings.conftest import NOW, book
from tests.factories import make_user


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
    offer, session, (a, b, c, d) = world
    offer.waitlist_may_pass = False
    db.add(offer)
    db.commit()
    first = book(db, a, session, 30)
    waiting = book(db, b, session, 30, waitlist=True)
    assert waiting.status == BookingStatus.waitlisted and bookings.waitlist_position(db, waiting) == 1
    # 20 places are free, but a class waits that the offer lets nobody pass: a newcomer must queue too.
    with pytest.raises(bookings.SessionFull):
        book(db, c, session, 10)
    small = book(db, d, session, 10, waitlist=True)
    assert bookings.waitlist_position(db, small) == 2

    coordinator = make_user(db, "coordinator")
    bookings.cancel_booking(db, coordinator, first.id, reason="", now=NOW)
    db.refresh(waiting)
    db.refresh(small)
    # The freed places are offered to both waiting classes, in order, and held for them.
    assert waiting.status == BookingStatus.offered and small.status == BookingStatus.offered
    assert waiting.hold_until == NOW + timedelta(hours=48)
    events = db.exec(select(BookingEvent).where(BookingEvent.booking_id == waiting.id).order_by(col(BookingEvent.id))).all()
    assert [(e.from_status, e.to_status) for e in events] == [(None, BookingStatus.waitlisted), (BookingStatus.waitlisted, BookingStatus.offered)]
    # An offered place is held: a newcomer still finds the session full.
    with pytest.raises(bookings.SessionFull):
        book(db, c, session, 10)


def test_a_later_waiting_class_that_fits_passes_one_that_does_not(db, world):
    _offer, session, (a, b, c, _d) = world
    first = book(db, a, session, 30)
    book(db, b, session, 20)  # 50 of 50
    big = book(db, c, session, 30, waitlist=True)
    small = book(db, _d, session, 15, waitlist=True)
    bookings.cancel_booking(db, a, first.id, reason="", now=NOW)  # the teacher cancels in good time
    db.refresh(big)
    db.refresh(small)
    assert big.status == BookingStatus.offered  # 30 fits the 30 freed
    assert small.status == BookingStatus.waitlisted


def test_a_newcomer_that_fits_passes_a_waiting_class_that_does_not(db, world):
    _offer, session, (a, b, c, d) = world
    book(db, a, session, 30)
    big = book(db, b, session, 30, waitlist=True)  # 20 places free: too few
    # The offer lets a class that fits pass one that does not, and a newcomer is no exception:
    # it is booked, not put behind the class that cannot have the places.
    small = book(db, c, session, 15, waitlist=True)
    assert small.status == BookingStatus.pending
    db.refresh(big)
    assert big.status == BookingStatus.waitlisted and bookings.waitlist_position(db, big) == 1
    with pytest.raises(bookings.SessionFull):
        book(db, d, session, 10)  # two classes are the most


def test_a_place_left_for_the_list_goes_to_it_before_a_newcomer(db, world):
    _offer, session, (a, b, c, d) = world
    first = book(db, a, session, 25)
    second = book(db, b, session, 25)  # 50 of 50
    bookings.approve_booking(db, make_user(db, "coordinator"), second.id, now=NOW)
    waiting = book(db, c, session, 20, waitlist=True)
    # The first booking's approval deadline passes; no job has run yet to mark it expired.
    later = first.hold_until + timedelta(minutes=1)
    data = BookingIn(session_id=session.id, class_name="7.a", grade=7, pupils=20, waitlist=True)
    newcomer = bookings.book_session(db, d, data, now=later)
    db.refresh(waiting)
    # The waiting class is offered the freed places first; the newcomer, for whom 5 places and
    # no class are left, waits behind it.
    assert (waiting.status, newcomer.status) == (BookingStatus.offered, BookingStatus.waitlisted)


def test_a_class_larger_than_the_date_is_refused_not_put_on_the_waiting_list(db, world):
    _offer, session, (a, _b, _c, _d) = world
    session.capacity_pupils = 24
    db.add(session)
    db.commit()
    with pytest.raises(InvalidInput) as refused:
        book(db, a, session, 25, waitlist=True)
    assert refused.value.field == "pupils" and "24" in refused.value.message
    assert db.exec(select(Booking).where(Booking.session_id == session.id)).all() == []


def test_a_waiting_class_the_date_no_longer_has_room_for_holds_up_nobody(db, world):
    offer, session, (a, b, c, d) = world
    offer.waitlist_may_pass = False
    db.add(offer)
    db.commit()
    first = book(db, a, session, 10)
    book(db, b, session, 10)  # two classes: full
    big = book(db, c, session, 30, waitlist=True)
    small = book(db, d, session, 5, waitlist=True)
    session.capacity_pupils = 25  # lowered by the provider: the class of 30 can never come now
    db.add(session)
    db.commit()
    bookings.cancel_booking(db, a, first.id, reason="", now=NOW)
    db.refresh(big)
    db.refresh(small)
    assert (big.status, small.status) == (BookingStatus.waitlisted, BookingStatus.offered)


def test_when_the_offer_forbids_passing_the_list_waits_for_its_head(db, world):
    offer, session, (a, b, c, d) = world
    offer.waitlist_may_pass = False
    db.add(offer)
    db.commit()
    first = book(db, a, session, 20)
    book(db, b, session, 30)  # 50 of 50
    big = book(db, c, session, 30, waitlist=True)
    small = book(db, d, session, 15, waitlist=True)
    bookings.cancel_booking(db, a, first.id, reason="", now=NOW)  # 20 free: the head (30) does not fit
    db.refresh(big)
    db.refresh(small)
    assert (big.status, small.status) == (BookingStatus.waitlisted, BookingStatus.waitlisted)


def test_an_offered_place_is_accepted_within_its_hold_and_then_needs_approval(db, world, mailbox, send_outbox):
    _offer, session, (a, b, _c, _d) = world
    first = book(db, a, session, 30)
    book(db, a, session, 20, class_name="7.b")  # 50 of 50
    waiting = book(db, b, session, 25, waitlist=True)
    bookings.cancel_booking(db, a, first.id, reason="", now=NOW)
    db.refresh(waiting)
    assert waiting.status == BookingStatus.offered
    with pytest.raises(Forbidden):
        bookings.accept_offered_place(db, make_user(db, "coordinator"), waiting.id, now=NOW)
    accepted = bookings.accept_offered_place(db, b, waiting.id, now=NOW + timedelta(hours=47))
    assert accepted.status == BookingStatus.pending
    assert accepted.hold_until == NOW + timedelta(hours=47) + bookings.APPROVAL_TIME
    with pytest.raises(Conflict):
        bookings.accept_offered_place(db, b, waiting.id, now=NOW + timedelta(hours=47))
    # The teacher was told of the offer and of the booking, by e-mail with the calendar file. The
    # place was offered before the worker told of the waiting list: "on the waiting list" would
    # have come after "a place is free for you", out of date, so it never came.
    send_outbox(now=NOW + timedelta(hours=48))
    subjects = [m["Subject"] for m in mailbox.to(b.email)]
    assert subjects == ["Der er en plads til jer: Robotter", "Booking modtaget: Robotter"]
    assert all(
        any(part.get_content_type() == "text/calendar" for part in m.iter_attachments()) for m in mailbox.to(b.email)
    )


def test_an_offer_not_taken_in_time_expires_and_passes_to_the_next_class(db, world):
    _offer, session, (a, b, c, _d) = world
    first = book(db, a, session, 30)
    book(db, a, session, 20, class_name="7.b")
    second = book(db, b, session, 30, waitlist=True)
    third = book(db, c, session, 30, waitlist=True)
    bookings.cancel_booking(db, a, first.id, reason="", now=NOW)
    db.refresh(second)
    assert second.status == BookingStatus.offered
    later = NOW + timedelta(hours=49)
    with pytest.raises(Conflict):
        bookings.accept_offered_place(db, b, second.id, now=later)
    assert bookings.expire_holds(db, now=later) == 1
    db.refresh(second)
    db.refresh(third)
    assert second.status == BookingStatus.expired
    assert third.status == BookingStatus.offered and third.hold_until == later + timedelta(hours=48)
    # Each teacher is told: the one whose offer ran out that it passed on, the next of the offer.
    assert [kind for kind, _subject in _told(db, b)] == ["offered", "expired_offer"]
    assert [kind for kind, _subject in _told(db, c)] == ["offered"]


def test_a_date_that_has_begun_takes_no_booking(db, world):
    _offer, session, (a, *_rest) = world
    data = BookingIn(session_id=session.id, class_name="7.a", grade=7, pupils=20, waitlist=True)
    with pytest.raises(Conflict) as refused:
        bookings.book_session(db, a, data, now=session.starts_at + timedelta(minutes=1))
    assert "begyndt" in refused.value.message
    assert db.exec(select(Booking).where(Booking.session_id == session.id)).all() == []


def test_pending_bookings_not_decided_in_time_expire_and_free_their_seats(db, world):
    _offer, session, (a, b, _c, _d) = world
    pending = book(db, a, session, 30)
    book(db, a, session, 20, class_name="7.b")
    waiting = book(db, b, session, 30, waitlist=True)
    deadline = pending.hold_until
    assert bookings.expire_holds(db, now=deadline - timedelta(seconds=1)) == 0
    assert bookings.expire_holds(db, now=deadline) == 2  # both pending bookings ran out
    db.refresh(pending)
    db.refresh(waiting)
    assert pending.status == BookingStatus.expired
    assert waiting.status == BookingStatus.offered
    event = db.exec(select(BookingEvent).where(BookingEvent.booking_id == pending.id, BookingEvent.to_status == BookingStatus.expired)).one()
    assert event.actor_id is None and event.reason


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


def test_the_service_refuses_a_reason_over_1000_characters(db, world):
    """The rule pages, API and command line share (the pages' own test is in test_pages)."""
    offer, session, (a, *_rest) = world
    booking = book(db, a, session, 10)
    provider = make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id))
    for refuse in (
        lambda: bookings.cancel_booking(db, a, booking.id, reason="R" * 1001, now=NOW),
        lambda: bookings.decline_booking(db, provider, booking.id, reason="R" * 1001, now=NOW),
    ):
        with pytest.raises(InvalidInput) as refused:
            refuse()
        db.rollback()
        assert refused.value.field == "reason" and refused.value.message == "Brug højst 1000 tegn."
    db.refresh(booking)
    assert booking.status == BookingStatus.pending and len(bookings.history(db, booking)) == 1
    assert bookings.cancel_booking(db, a, booking.id, reason="R" * 1000, now=NOW).reason == "R" * 1000


def test_the_catalogue_shows_free_places_after_bookings(db, world):
    from app.catalogue.service import CatalogueFilters, search_offers

    offer, session, (a, b, *_rest) = world
    book(db, a, session, 25)
    book(db, b, session, 25)  # full: 50 of 50
    (hit,), _total = search_offers(db, CatalogueFilters(q="Robotter"), now=NOW)
    assert hit.free_pupils[session.id] == 0
    assert search_offers(db, CatalogueFilters(q="Robotter", free_places=True), now=NOW)[1] == 0


def test_the_worker_tells_teacher_and_provider_of_a_new_booking_once(db, world):
    """A booking's transaction writes only the booking and its event; the worker's pass turns the
    event into the teacher's message (inbox and e-mail) and the provider staff's (inbox)."""
    offer, session, (a, b, c, _d) = world
    staff = make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id))
    pending = book(db, a, session, 30)
    book(db, b, session, 20)  # 50 of 50
    waiting = book(db, c, session, 10, waitlist=True)
    kinds = lambda user: [n.kind for n in db.exec(select(Notification).where(Notification.user_id == user.id))]  # noqa: E731
    assert kinds(a) == [] and kinds(staff) == []  # nothing written under the lock
    assert tell_about_new_bookings(db, now=NOW) == 3
    assert tell_about_new_bookings(db, now=NOW) == 0  # told once
    assert kinds(a) == ["booked"] and kinds(c) == ["booked"]
    assert kinds(staff) == ["provider_booked", "provider_booked"]  # the waiting class is not coming yet
    mails = {m.booking_id: m.subject for m in db.exec(select(OutboxMessage).where(col(OutboxMessage.booking_id).in_([pending.id, waiting.id])))}
    assert mails[pending.id].startswith("Booking modtaget") and mails[waiting.id].startswith("På venteliste")
    events = db.exec(select(BookingEvent).where(BookingEvent.booking_id == pending.id)).all()
    assert [e.told_at for e in events] == [NOW]


def _told(db, user) -> list[tuple[str, str]]:
    """The user's inbox, oldest first: (kind, subject)."""
    return [(n.kind, n.subject) for n in db.exec(select(Notification).where(Notification.user_id == user.id).order_by(col(Notification.id)))]


def _mailed(db, user) -> list[str]:
    """The subjects of the user's e-mails in the order the worker sends them."""
    return list(db.exec(select(OutboxMessage.subject).where(OutboxMessage.to_address == user.email).order_by(col(OutboxMessage.id))))


def test_a_booking_approved_before_the_worker_told_of_it_is_told_approved_only(db, world):
    """The approval is told at once, the booking itself by the worker: the teacher never gets
    "received, your places are held while a coordinator approves" after "approved". The provider's
    staff still hear of the new booking (the class is coming), before anything else about it."""
    offer, session, (a, *_rest) = world
    staff = make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id))
    booking = book(db, a, session, 30)  # pending; its first event is not told yet
    bookings.approve_booking(db, make_user(db, "coordinator"), booking.id, now=NOW)
    assert _told(db, a) == [("approved", "Godkendt: Robotter")]
    assert [kind for kind, _subject in _told(db, staff)] == ["provider_booked"]
    (first, _approved) = db.exec(select(BookingEvent).where(BookingEvent.booking_id == booking.id).order_by(col(BookingEvent.id))).all()
    assert first.told_at == NOW  # told (or dropped) with the approval
    assert tell_about_new_bookings(db, now=NOW + timedelta(minutes=1)) == 0
    assert _mailed(db, a) == ["Godkendt: Robotter"]
    assert _told(db, a) == [("approved", "Godkendt: Robotter")]


def test_a_booking_the_teacher_cancels_before_it_was_told_is_told_to_the_provider_in_order(db, world):
    offer, session, (a, *_rest) = world
    staff = make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id))
    booking = book(db, a, session, 30)
    bookings.cancel_booking(db, a, booking.id, reason="", now=NOW)
    assert [kind for kind, _subject in _told(db, staff)] == ["provider_booked", "provider_cancelled"]
    # The teacher is told it is cancelled (a colleague may have done it; the e-mail's calendar file
    # takes it out of their calendar), and no stale "received" comes after.
    assert _told(db, a) == [("cancelled", "Afbestilt: Robotter")]
    assert tell_about_new_bookings(db, now=NOW) == 0


def test_the_worker_tells_nothing_of_a_booking_that_moved_on_unseen(db, world):
    """Leaving a waiting list tells only the teacher that it is done: the worker, coming later,
    does not tell them they are on it, nor the provider."""
    offer, session, (a, b, c, _d) = world
    staff = make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id))
    book(db, a, session, 30)
    book(db, b, session, 20)
    waiting = book(db, c, session, 10, waitlist=True)
    bookings.cancel_booking(db, c, waiting.id, reason="", now=NOW)
    assert tell_about_new_bookings(db, now=NOW) == 2  # c's was told (dropped) with the cancellation
    assert _told(db, c) == [("cancelled", "Afbestilt: Robotter")]
    assert [kind for kind, _subject in _told(db, staff)] == ["provider_booked", "provider_booked"]
    assert tell_about_new_bookings(db, now=NOW) == 0


def test_on_postgresql_a_booking_takes_the_one_round_trip_path_unless_a_round_or_cap_applies(db, world, monkeypatch):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the one-call path is PostgreSQL's; SQLite always takes the general one")
    from app.bookings import locked_part

    outcomes = []
    real_book = locked_part.book
    monkeypatch.setattr(locked_part, "book", lambda db, params: outcomes.append(real_book(db, params)) or outcomes[-1])
    offer, session, (a, b, *_rest) = world
    first = book(db, a, session, 30)
    assert outcomes[-1].id == first.id and first.status == BookingStatus.pending
    # A school cap for the offer's type: the one call books nothing and says so; the general path does.
    db.add(SchoolCap(offer_type=offer.type, school_year=2026, max_bookings=5))
    db.commit()
    second = book(db, b, session, 20)
    assert outcomes[-1].limited and outcomes[-1].id is None
    assert second.status == BookingStatus.pending and len(outcomes) == 2


def test_on_postgresql_a_date_with_a_waiting_list_is_booked_by_the_general_path(db, world, monkeypatch):
    """The general path moves the list before it decides: the one call is not even tried when the
    read before the lock sees classes waiting, and hands over when it finds them under the lock."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the one-call path is PostgreSQL's; SQLite always takes the general one")
    from app.bookings import locked_part

    outcomes = []
    real_book = locked_part.book
    monkeypatch.setattr(locked_part, "book", lambda db, params: outcomes.append(real_book(db, params)) or outcomes[-1])
    _offer, session, (a, b, c, _d) = world
    book(db, a, session, 30)
    waiting = book(db, b, session, 30, waitlist=True)
    assert waiting.status == BookingStatus.waitlisted and len(outcomes) == 2
    small = book(db, c, session, 15)  # may pass the class that does not fit
    assert small.status == BookingStatus.pending and len(outcomes) == 2  # no call: the general path booked
    # Under the lock the function hands a date with a waiting list over (what the read before it
    # saw may be old by then).
    params = {
        "session_id": session.id, "school_id": c.organisation_id, "teacher_id": c.id, "class_name": "7.x",
        "class_key": "7.x", "grade": 7, "pupils": 1, "girls": None, "adults": 1, "needs": "", "contact_phone": "",
        "admitted": "pending", "waitlist": True, "hold_until": NOW + timedelta(days=1), "key": None,
        "request_hash": "x", "now": NOW,
    }  # fmt: skip
    assert real_book(db, params).limited
    db.rollback()
