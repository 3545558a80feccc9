"""The worker's scheduled messages: coordinators reminded of approvals that run out, teachers a
week and a day before, the evaluation request afterwards; each goes out once."""

from datetime import timedelta

from sqlmodel import select

from app.bookings import reminders
from app.bookings import service as bookings
from app.bookings.models import BookingEvent, BookingStatus
from app.bookings.notices import tell_about_new_bookings
from app.notifications.models import Notification
from tests.bookings.conftest import NOW, book
from tests.factories import make_school, make_user


def inbox(db, user) -> list[str]:
    return [n.kind for n in db.exec(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))]


def test_coordinators_hear_of_pending_bookings_two_days_before_they_expire(db, world):
    _offer, session, _teachers = world
    local = make_user(db, "coordinator", municipality="Aarhus")
    regional = make_user(db, "coordinator")
    teacher = make_user(db, "teacher", organisation=make_school(db, municipality="Aarhus"))
    pending = book(db, teacher, session, 10)
    elsewhere = make_user(db, "teacher", organisation=make_school(db, municipality="Skive"))
    book(db, elsewhere, session, 10)  # Skive has no coordinator of its own: the region's is told
    deadline = pending.hold_until
    assert reminders.remind_coordinators(db, now=deadline - timedelta(days=3)) == 0
    assert reminders.remind_coordinators(db, now=deadline - timedelta(days=2)) == 2
    assert inbox(db, local) == ["approvals_due"]  # Aarhus's own coordinator, for the Aarhus school
    assert inbox(db, regional) == ["approvals_due"]  # the region's, for the other school
    (message,) = db.exec(select(Notification).where(Notification.user_id == local.id)).all()
    assert "7.a" in message.body and message.link == "/bookings"
    assert reminders.remind_coordinators(db, now=deadline - timedelta(days=1)) == 0  # once only


def test_teachers_are_reminded_a_week_and_a_day_before_and_asked_afterwards(db, world):
    offer, session, (a, _b, _c, _d) = world
    offer.requires_approval = False
    db.add(offer)
    db.commit()
    booking = book(db, a, session, 10)
    assert booking.status == BookingStatus.confirmed
    assert tell_about_new_bookings(db, now=NOW) == 1  # the worker tells of the booking
    starts = session.starts_at
    assert reminders.remind_teachers(db, now=starts - timedelta(days=8)) == 0
    assert reminders.remind_teachers(db, now=starts - timedelta(days=6)) == 1
    assert reminders.remind_teachers(db, now=starts - timedelta(days=5)) == 0
    assert reminders.remind_teachers(db, now=starts - timedelta(hours=20)) == 1
    assert reminders.complete_and_ask_for_evaluation(db, now=session.ends_at - timedelta(minutes=1)) == 0
    assert reminders.complete_and_ask_for_evaluation(db, now=session.ends_at) == 1
    db.refresh(booking)
    assert booking.status == BookingStatus.completed
    last = db.exec(select(BookingEvent).where(BookingEvent.booking_id == booking.id).order_by(BookingEvent.id.desc())).first()
    assert (last.from_status, last.to_status) == (BookingStatus.confirmed, BookingStatus.completed)
    assert inbox(db, a) == ["booked", "reminder_week", "reminder_day", "evaluation"]
    assert reminders.complete_and_ask_for_evaluation(db, now=session.ends_at + timedelta(days=1)) == 0


def test_a_booking_made_within_the_week_gets_only_the_days_reminder(db, world):
    offer, session, (a, _b, _c, _d) = world
    offer.requires_approval = False
    db.add(offer)
    db.commit()
    late = NOW + timedelta(days=30) - timedelta(days=5)  # five days before the date
    booking = bookings.book_session(db, a, _data(session), now=late)
    assert reminders.remind_teachers(db, now=late + timedelta(hours=1)) == 0
    assert reminders.remind_teachers(db, now=session.starts_at - timedelta(hours=12)) == 1
    assert inbox(db, a)[-1] == "reminder_day" and booking.id


def _data(session):
    from app.bookings.schemas import BookingIn

    return BookingIn(session_id=session.id, class_name="7.a", grade=7, pupils=10)
