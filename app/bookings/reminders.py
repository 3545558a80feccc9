"""Scheduled messages about bookings, sent by the worker: coordinators are reminded of approvals
about to run out, teachers of their activity a week and a day before, and asked for an evaluation
afterwards (the booking is then `completed`). Each reminder is recorded in `booking_reminders`, so
it goes out once even when two workers run."""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, Role, User
from app.bookings.models import Booking, BookingEvent, BookingReminder, BookingStatus
from app.bookings.notices import ask_for_evaluation, tell_coordinator_approvals_due, tell_teacher
from app.catalogue.models import OfferSession
from app.config import Settings, get_settings

# Coordinators hear about a pending booking this long before it would expire.
APPROVAL_WARNING = timedelta(days=2)
WEEK, DAY = timedelta(days=7), timedelta(days=1)


def _not_yet(kind: str):
    return ~exists().where(BookingReminder.booking_id == Booking.id, BookingReminder.kind == kind)


def _record(db: Session, booking: Booking, kind: str, now: datetime) -> bool:
    """Claim the reminder; False when another worker already sent it."""
    try:
        with db.begin_nested():
            db.add(BookingReminder(booking_id=booking.id, kind=kind, sent_at=now))
    except IntegrityError:
        return False
    return True


def remind_coordinators(db: Session, *, now: datetime) -> int:
    """One message per coordinator listing the pending bookings that expire within two days:
    the school's municipal coordinators, or the regional ones where the municipality has none."""
    due = db.exec(
        select(Booking, Organisation.municipality)
        .join(Organisation, col(Organisation.id) == col(Booking.school_id))
        .where(
            Booking.status == BookingStatus.pending,
            col(Booking.hold_until) > now,
            col(Booking.hold_until) <= now + APPROVAL_WARNING,
            _not_yet("approvals_due"),
        )
        .order_by(col(Booking.hold_until))
    ).all()
    coordinators = db.exec(select(User).where(User.role == Role.coordinator, User.is_active)).all()
    regional = [c for c in coordinators if c.municipality is None]
    per_coordinator: dict[int, list[Booking]] = defaultdict(list)
    for booking, municipality in due:
        if not _record(db, booking, "approvals_due", now):
            continue
        local = [c for c in coordinators if c.municipality == municipality]
        for coordinator in local or regional:
            per_coordinator[coordinator.id].append(booking)
    by_id = {c.id: c for c in coordinators}
    for coordinator_id, bookings in per_coordinator.items():
        tell_coordinator_approvals_due(db, by_id[coordinator_id], bookings, now=now)
    db.commit()
    return len(per_coordinator)


def remind_teachers(db: Session, *, now: datetime) -> int:
    """A week and a day before a confirmed activity (the week's reminder only when the booking was
    made more than a week ahead)."""
    sent = 0
    for kind, ahead in (("reminder_week", WEEK), ("reminder_day", DAY)):
        rows = db.exec(
            select(Booking, OfferSession.starts_at)
            .join(OfferSession, col(OfferSession.id) == col(Booking.session_id))
            .where(
                Booking.status == BookingStatus.confirmed,
                col(OfferSession.cancelled_at).is_(None),
                OfferSession.starts_at > now,
                OfferSession.starts_at <= now + ahead,
                _not_yet(kind),
            )
        ).all()
        for booking, starts_at in rows:
            if kind == "reminder_week" and (
                starts_at - booking.created_at <= WEEK or starts_at - now <= DAY
            ):
                continue
            if _record(db, booking, kind, now):
                tell_teacher(db, booking, kind, now=now)
                sent += 1
        db.commit()
    return sent


def complete_and_ask_for_evaluation(db: Session, *, now: datetime, settings: Settings | None = None) -> int:
    """Confirmed bookings whose activity has ended become `completed`; the teacher, the provider's
    staff and the visit's mentors are asked how it went (app.evaluations.service.ask_for_booking)."""
    settings = settings or get_settings()
    rows = db.exec(
        select(Booking)
        .join(OfferSession, col(OfferSession.id) == col(Booking.session_id))
        .where(
            Booking.status == BookingStatus.confirmed,
            OfferSession.ends_at <= now,
            _not_yet("evaluation"),
        )
    ).all()
    done = 0
    for booking in rows:
        if not _record(db, booking, "evaluation", now):
            continue
        db.add(
            BookingEvent(
                booking_id=booking.id,
                from_status=booking.status,
                to_status=BookingStatus.completed,
                reason="the activity took place",
                at=now,
                told_at=now,
            )
        )
        booking.status = BookingStatus.completed
        booking.updated_at = now
        db.add(booking)
        ask_for_evaluation(db, booking, now=now, settings=settings)
        done += 1
    db.commit()
    return done
