"""The calendar file every booking e-mail carries, read as a calendar client reads it: one event per
booking (one UID) whose versions replace each other by SEQUENCE; PUBLISHed while the booking holds
or held a place (TENTATIVE until it is approved or the place offered is taken, CONFIRMED after),
pencilled in (TENTATIVE, transparent) on the waiting list, and a CANCEL once it ended."""

import threading
from datetime import timedelta

import icalendar
import pytest
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, User
from app.bookings import notices
from app.bookings import service as bookings
from app.bookings.models import BookingStatus
from app.bookings.reminders import complete_and_ask_for_evaluation, remind_teachers
from app.catalogue.models import Offer
from app.db import make_engine
from app.notifications.models import OutboxMessage
from tests.bookings.conftest import NOW, book, make_world
from tests.conftest import TEST_DATABASE_URL, fresh_database, worker_database
from tests.factories import api_headers, log_in, make_user


def calendars(mailbox, address: str) -> list[tuple[str, icalendar.Calendar]]:
    """Each e-mail to the address: its subject and the calendar file it carries, whose method the
    MIME type repeats (RFC 6047; Outlook goes by it)."""
    found = []
    for mail in mailbox.to(address):
        (part,) = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
        calendar = icalendar.Calendar.from_ical(part.get_content())
        assert part.get_param("method") == str(calendar["METHOD"]), mail["Subject"]
        found.append((mail["Subject"], calendar))
    return found


def version(calendar: icalendar.Calendar) -> tuple[str, str, int]:
    """(METHOD, STATUS, SEQUENCE) of the file's one event."""
    (event,) = calendar.walk("VEVENT")
    return str(calendar["METHOD"]), str(event["STATUS"]), int(event["SEQUENCE"])


def uids(found) -> set[str]:
    return {str(event["UID"]) for _subject, calendar in found for event in calendar.walk("VEVENT")}


def test_a_bookings_e_mails_carry_one_event_each_version_newer_than_the_last(client, db, settings, world, mailbox, send_outbox):
    _offer, session, (a, *_rest) = world
    booking = book(db, a, session, 20)  # awaits approval
    send_outbox(NOW)
    bookings.approve_booking(db, make_user(db, "coordinator"), booking.id, now=NOW + timedelta(hours=1))
    send_outbox(NOW + timedelta(hours=1))
    starts = session.starts_at
    remind_teachers(db, now=starts - timedelta(days=6))
    remind_teachers(db, now=starts - timedelta(hours=20))
    send_outbox(starts - timedelta(hours=20))
    complete_and_ask_for_evaluation(db, now=session.ends_at)
    send_outbox(session.ends_at)

    found = calendars(mailbox, a.email)
    assert [(subject.split(":")[0], version(calendar)) for subject, calendar in found] == [
        ("Booking modtaget", ("PUBLISH", "TENTATIVE", 0)),
        ("Godkendt", ("PUBLISH", "CONFIRMED", 1)),
        ("Om en uge", ("PUBLISH", "CONFIRMED", 1)),
        ("I morgen", ("PUBLISH", "CONFIRMED", 1)),
        ("Hvordan gik Robotter?", ("PUBLISH", "CONFIRMED", 2)),  # the event as it was: it is past
    ]
    assert uids(found) == {f"booking-{booking.id}@stem-portal"}
    (event,) = found[-1][1].walk("VEVENT")
    assert event.decoded("DTSTART") == session.starts_at and str(event["SUMMARY"]) == "Robotter"
    assert str(event["ORGANIZER"]) == "mailto:noreply@stem.rm.dk"
    # The booking's page and the API give the same event, as it is now.
    log_in(client, db, a, settings)
    for url, headers in ((f"/bookings/{booking.id}.ics", {}), (f"/api/v1/bookings/{booking.id}.ics", api_headers(db, a, settings))):
        download = icalendar.Calendar.from_ical(client.get(url, headers=headers).content)
        assert version(download) == ("PUBLISH", "CONFIRMED", 2)
        assert uids([("", download)]) == {f"booking-{booking.id}@stem-portal"}


def _decline(db, booking, session):
    bookings.decline_booking(db, make_user(db, "coordinator"), booking.id, reason="Fuld årgang", now=NOW + timedelta(hours=1))


def _cancel(db, booking, session):
    bookings.cancel_booking(db, make_user(db, "coordinator"), booking.id, reason="Bussen kører ikke", now=NOW + timedelta(hours=1))


def _cancel_date(db, booking, session):
    provider = make_user(db, "provider", organisation=db.get(Organisation, db.get(Offer, session.offer_id).provider_id))
    bookings.cancel_session_bookings(db, provider, session.id, now=NOW + timedelta(hours=1))


def _expire(db, booking, session):
    bookings.expire_holds(db, now=booking.hold_until + timedelta(seconds=1))


@pytest.mark.parametrize(
    ("end", "subject"),
    [(_decline, "Afvist"), (_cancel, "Afbestilt"), (_cancel_date, "Aflyst"), (_expire, "Udløbet")],
    ids=["declined", "cancelled", "date_cancelled", "expired"],
)
def test_a_booking_that_ends_is_cancelled_in_the_teachers_calendar(db, world, mailbox, send_outbox, end, subject):
    _offer, session, (a, *_rest) = world
    booking = book(db, a, session, 20)
    send_outbox(NOW)
    end(db, booking, session)
    send_outbox(NOW + timedelta(days=8))
    db.refresh(booking)
    assert booking.status in (BookingStatus.declined, BookingStatus.cancelled, BookingStatus.expired)
    found = calendars(mailbox, a.email)
    assert [(s.split(":")[0], version(c)) for s, c in found] == [
        ("Booking modtaget", ("PUBLISH", "TENTATIVE", 0)),
        (subject, ("CANCEL", "CANCELLED", 1)),  # the same event, newer: a client that added it removes it
    ]
    assert uids(found) == {f"booking-{booking.id}@stem-portal"}


def test_a_waiting_class_has_the_date_pencilled_in_until_it_gets_a_place_or_not(db, world, mailbox, send_outbox):
    _offer, session, (a, b, c, d) = world
    first = book(db, a, session, 30)
    book(db, b, session, 20)  # 50 of 50
    waiting = book(db, c, session, 25, waitlist=True)
    last = book(db, d, session, 25, waitlist=True)
    send_outbox(NOW)
    bookings.cancel_booking(db, make_user(db, "coordinator"), first.id, reason="", now=NOW + timedelta(hours=1))
    db.refresh(waiting)
    assert waiting.status == BookingStatus.offered  # 30 free: the first waiting class (25) fits, the next does not
    send_outbox(NOW + timedelta(hours=1))
    bookings.expire_holds(db, now=waiting.hold_until + timedelta(seconds=1))  # not taken in time
    send_outbox(waiting.hold_until + timedelta(seconds=1))

    found = calendars(mailbox, c.email)
    assert [(s.split(":")[0], version(cal)) for s, cal in found] == [
        ("På venteliste", ("PUBLISH", "TENTATIVE", 0)),
        ("Der er en plads til jer", ("PUBLISH", "TENTATIVE", 1)),
        ("Pladsen er givet videre", ("CANCEL", "CANCELLED", 2)),
    ]
    assert uids(found) == {f"booking-{waiting.id}@stem-portal"}
    (pencilled,) = found[0][1].walk("VEVENT")
    assert str(pencilled["TRANSP"]) == "TRANSPARENT"  # pencilled in, not blocking the time
    # The next class gets the place in turn; its own event is another.
    assert [version(cal)[:2] for _s, cal in calendars(mailbox, d.email)] == [("PUBLISH", "TENTATIVE"), ("PUBLISH", "TENTATIVE")]  # waiting, then a place offered
    assert uids(calendars(mailbox, d.email)) == {f"booking-{last.id}@stem-portal"}


def test_a_waiting_class_whose_date_is_cancelled_has_it_removed(db, world, mailbox, send_outbox):
    offer, session, (a, b, c, _d) = world
    book(db, a, session, 30)
    book(db, b, session, 20)
    waiting = book(db, c, session, 10, waitlist=True)
    send_outbox(NOW)
    provider = make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id))
    bookings.cancel_session_bookings(db, provider, session.id, now=NOW + timedelta(hours=1))
    send_outbox(NOW + timedelta(hours=1))
    found = calendars(mailbox, c.email)
    assert [version(cal) for _s, cal in found] == [("PUBLISH", "TENTATIVE", 0), ("CANCEL", "CANCELLED", 1)]
    assert uids(found) == {f"booking-{waiting.id}@stem-portal"}


def test_each_e_mail_carries_the_version_it_tells_of_also_when_sent_after_a_newer_one(db, world, mailbox, send_outbox):
    """Approved, then cancelled before the worker sent anything: each e-mail carries the booking as
    its text tells it, the newer with the higher SEQUENCE, so a client keeps the cancellation
    whichever e-mail is opened last."""
    _offer, session, (a, *_rest) = world
    booking = book(db, a, session, 20)
    send_outbox(NOW)
    bookings.approve_booking(db, make_user(db, "coordinator"), booking.id, now=NOW + timedelta(minutes=1))
    bookings.cancel_booking(db, make_user(db, "coordinator"), booking.id, reason="Sygdom", now=NOW + timedelta(minutes=5))
    send_outbox(NOW + timedelta(minutes=10))
    found = calendars(mailbox, a.email)
    assert [(s.split(":")[0], version(c)) for s, c in found] == [
        ("Booking modtaget", ("PUBLISH", "TENTATIVE", 0)),
        ("Godkendt", ("PUBLISH", "CONFIRMED", 1)),
        ("Afbestilt", ("CANCEL", "CANCELLED", 2)),
    ]


def test_the_providers_e_mail_carries_the_date_which_still_takes_place(db, world, mailbox, send_outbox):
    """A class cancelling does not cancel the date for the others: the provider's staff get the
    date as their calendar feed has it, not a cancellation."""
    offer, session, (a, *_rest) = world
    staff = make_user(db, "provider", organisation=db.get(Organisation, offer.provider_id))
    booking = book(db, a, session, 20)
    send_outbox(NOW)
    bookings.cancel_booking(db, a, booking.id, reason="", now=NOW + timedelta(hours=1))
    send_outbox(NOW + timedelta(hours=1))
    (found,) = calendars(mailbox, staff.email)
    assert found[0].startswith("Afbestilling")
    assert version(found[1]) == ("PUBLISH", "CONFIRMED", 0)
    assert uids([found]) == {f"session-{session.id}@stem-portal"}


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """A database of this module's own, where what a test writes is committed, for work on several
    connections at once."""
    if TEST_DATABASE_URL:
        url = fresh_database(worker_database(TEST_DATABASE_URL, "notices"))
    else:
        url = fresh_database(str(tmp_path_factory.mktemp("notices") / "notices.db"))
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_a_change_made_while_the_worker_tells_of_the_booking_waits_and_is_told_after_it(committed, monkeypatch):
    """The worker has claimed a new booking's first event and is telling of it when a coordinator
    approves the booking: the approval waits for the worker's transaction, so "received" goes out
    before "approved", never after it."""
    with Session(committed) as db:
        _offer, session, (teacher, *_rest) = make_world(db)
        booking_id = book(db, teacher, session, 20).id
        coordinator_id, address = make_user(db, "coordinator").id, teacher.email
    claimed, go = threading.Event(), threading.Event()
    tell_first_event = notices._tell_first_event

    def held_up(db, event, **kwargs):
        if threading.current_thread().name == "worker":
            claimed.set()
            assert go.wait(20)
        tell_first_event(db, event, **kwargs)

    monkeypatch.setattr(notices, "_tell_first_event", held_up)
    failures = []

    def in_session(work):
        def run():
            try:
                with Session(committed) as db:
                    work(db)
            except Exception as error:  # a thread's failure fails the test below
                failures.append(error)

        return run

    def tell(db):
        notices.tell_about_new_bookings(db, now=NOW + timedelta(minutes=1))

    def approve(db):
        bookings.approve_booking(db, db.get(User, coordinator_id), booking_id, now=NOW + timedelta(minutes=2))

    worker = threading.Thread(target=in_session(tell), name="worker")
    approval = threading.Thread(target=in_session(approve))
    worker.start()
    assert claimed.wait(20)
    approval.start()
    approval.join(1)
    waited = approval.is_alive()
    go.set()
    worker.join(20)
    approval.join(20)
    assert failures == [] and waited  # the approval waited for the worker
    with Session(committed) as db:
        query = select(OutboxMessage.subject).where(OutboxMessage.to_address == address)
        mailed = db.exec(query.order_by(col(OutboxMessage.id))).all()
    assert [subject.split(":")[0] for subject in mailed] == ["Booking modtaget", "Godkendt"]
