"""What teachers, providers and coordinators are told when a booking changes: a message in their
inbox and an e-mail (with the booking's calendar file) through the outbox, in each recipient's
own language. Written in the same transaction as the change, except for a new booking: its
transaction runs while others wait for the date's lock, so the worker tells of it afterwards,
from the booking's first event (`tell_about_new_bookings`)."""

from datetime import datetime

from sqlmodel import Session, col, select

from app.accounts.models import Organisation, Role, User
from app.bookings.models import Booking, BookingEvent, BookingStatus
from app.calendar.booking_files import booking_file, session_file
from app.catalogue.models import Offer, OfferSession
from app.config import get_settings
from app.i18n import _, language, local_datetime
from app.notifications.models import OutboxMessage
from app.notifications.service import notify


def _greeting() -> str:
    return _("Kind regards\nThe STEM portal")


def _context(db: Session, booking: Booking) -> tuple[OfferSession, Offer]:
    session = db.get(OfferSession, booking.session_id)
    return session, db.get(Offer, session.offer_id)


def _facts(booking: Booking, session: OfferSession, offer: Offer) -> dict:
    return {
        "title": offer.title,
        "when": local_datetime(session.starts_at, "medium"),
        "class_name": booking.class_name,
        "pupils": booking.pupils,
        "reason": booking.reason,
        "until": local_datetime(booking.hold_until, "medium") if booking.hold_until else "",
    }


def _teacher_message(kind: str, booking: Booking, status: BookingStatus) -> tuple[str, str]:
    """Subject and first paragraph for the teacher, in the current language (`status`: the state
    the booking came into by what we tell of)."""
    match kind:
        case "booked" if status == BookingStatus.confirmed:
            return _("Booked: %(title)s"), _(
                "Class %(class_name)s (%(pupils)d pupils) is booked for %(title)s on %(when)s."
            )
        case "booked" if status == BookingStatus.pending:
            return _("Booking received: %(title)s"), _(
                "Class %(class_name)s is booked for %(title)s on %(when)s. The places are held for you while "
                "a coordinator approves the booking, at the latest by %(until)s."
            )
        case "booked" if booking.round_id is not None:
            return _("Request received: %(title)s"), _(
                "Class %(class_name)s's request for %(title)s on %(when)s is received. The places are allocated "
                "by a fair draw after the deadline; we write to you with the result."
            )
        case "booked":
            return _("On the waiting list: %(title)s"), _(
                "Class %(class_name)s is on the waiting list for %(title)s on %(when)s. "
                "We write to you as soon as a place is free."
            )
        case "approved":
            return _("Approved: %(title)s"), _(
                "The booking of class %(class_name)s for %(title)s on %(when)s is approved."
            )
        case "declined":
            return _("Declined: %(title)s"), _(
                "The booking of class %(class_name)s for %(title)s on %(when)s was declined. Reason: %(reason)s"
            )
        case "offered":
            return _("A place is free for you: %(title)s"), _(
                "A place is free for class %(class_name)s on %(title)s on %(when)s. It is held for you until "
                "%(until)s: accept it on the booking's page, or it passes to the next class on the list."
            )
        case "confirmed_from_waitlist":
            return _("You got a place: %(title)s"), _(
                "A place became free and class %(class_name)s is now booked for %(title)s on %(when)s."
            )
        case "cancelled":
            return _("Cancelled: %(title)s"), _(
                "The booking of class %(class_name)s for %(title)s on %(when)s is cancelled. %(reason)s"
            )
        case "date_cancelled":
            return _("Cancelled: %(title)s"), _(
                "The provider has cancelled %(title)s on %(when)s, which class %(class_name)s was booked for. "
                "The booking is cancelled. Find another activity in the catalogue."
            )
        case "date_cancelled_while_waiting":
            return _("Cancelled: %(title)s"), _(
                "The provider has cancelled %(title)s on %(when)s, for which class %(class_name)s was on the waiting "
                "list. Find another activity in the catalogue."
            )
        case "expired_pending":
            return _("Expired: %(title)s"), _(
                "The booking of class %(class_name)s for %(title)s on %(when)s was not approved in time and "
                "has expired. The places went to others."
            )
        case "expired_offer":
            return _("Place passed on: %(title)s"), _(
                "The place offered to class %(class_name)s for %(title)s on %(when)s was not accepted in time "
                "and has passed to the next class on the waiting list."
            )
        case "reminder_week":
            return _("In a week: %(title)s"), _(
                "Class %(class_name)s takes part in %(title)s on %(when)s."
            )
        case "reminder_day":
            return _("Tomorrow: %(title)s"), _(
                "Class %(class_name)s takes part in %(title)s on %(when)s."
            )
        case "evaluation":
            return _("How was %(title)s?"), _(
                "Class %(class_name)s took part in %(title)s on %(when)s. Please tell us how it went: "
                "it takes two minutes and helps the region's STEM barometer."
            )
    raise ValueError(kind)


def tell_teacher(db: Session, booking: Booking, kind: str, *, now: datetime, status: BookingStatus | None = None) -> None:
    """Tell the booking's teacher what happened (kinds: see `_teacher_message`); `status` is the
    state it came into when that is no longer its state now."""
    teacher = db.get(User, booking.teacher_id)
    session, offer = _context(db, booking)
    with language(teacher.language):
        subject, first = _teacher_message(kind, booking, status or booking.status)
        facts = _facts(booking, session, offer)
        body = (
            _("Hello %(name)s,") % {"name": teacher.name}
            + "\n\n"
            + first % facts
            + "\n\n"
            + _greeting()
            + "\n"
        )
        notify(
            db,
            teacher,
            kind=kind,
            subject=subject % facts,
            body=body,
            now=now,
            link=f"/bookings/{booking.id}",
            booking_id=booking.id,
            base_url=get_settings().base_url,
        )


def tell_provider(db: Session, booking: Booking, kind: str, *, now: datetime) -> None:
    """Tell the provider's staff about a new booking (inbox only) or a cancellation (also e-mail)."""
    session, offer = _context(db, booking)
    school = db.get(Organisation, booking.school_id)
    staff = db.exec(
        select(User).where(
            User.organisation_id == offer.provider_id, User.role == Role.provider, User.is_active
        )
    ).all()
    for user in staff:
        with language(user.language):
            facts = {**_facts(booking, session, offer), "school": school.name}
            if kind == "booked":
                subject = _("New booking: %(title)s, %(when)s") % facts
                body = (
                    _(
                        "%(school)s has booked %(title)s on %(when)s for class %(class_name)s (%(pupils)d pupils)."
                    )
                    % facts
                )
            else:
                subject = _("Cancelled booking: %(title)s, %(when)s") % facts
                body = (
                    _(
                        "%(school)s has cancelled class %(class_name)s's booking of %(title)s on %(when)s. %(reason)s"
                    )
                    % facts
                )
            notify(
                db,
                user,
                kind=f"provider_{kind}",
                subject=subject,
                body=body,
                now=now,
                link=f"/provider/sessions/{session.id}/attendees",
                booking_id=booking.id,
                base_url=get_settings().base_url,
                email=kind != "booked",
            )


def tell_about_new_bookings(db: Session, *, now: datetime, batch: int = 500) -> int:
    """The worker's job: tell the teacher (inbox and e-mail) and the provider's staff (inbox) of
    each new booking whose first event is not yet told. Events are claimed with SKIP LOCKED, so
    two workers never tell the same booking twice. Returns how many bookings were told of."""
    events = db.exec(
        select(BookingEvent)
        .where(col(BookingEvent.told_at).is_(None))
        .order_by(col(BookingEvent.id))
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    for event in events:
        booking = db.get(Booking, event.booking_id)
        tell_teacher(db, booking, "booked", now=now, status=event.to_status)
        if event.to_status != BookingStatus.waitlisted:
            tell_provider(db, booking, "booked", now=now)
        event.told_at = now
        db.add(event)
    db.commit()
    return len(events)


def tell_coordinator_approvals_due(
    db: Session, coordinator: User, bookings: list[Booking], *, now: datetime
) -> None:
    with language(coordinator.language):
        count = len(bookings)
        subject = _("%(num)d bookings await your approval") % {"num": count}
        lines = []
        for booking in bookings:
            session, offer = _context(db, booking)
            expires = _("expires %(until)s") % {"until": local_datetime(booking.hold_until, "short")}
            lines.append(f"- {offer.title}, {local_datetime(session.starts_at, 'short')}: {booking.class_name} ({expires})")
        body = (
            _("Hello %(name)s,") % {"name": coordinator.name}
            + "\n\n"
            + _("These bookings expire soon unless they are approved or declined:")
            + "\n\n"
            + "\n".join(lines)
            + "\n\n"
            + _greeting()
            + "\n"
        )
        notify(
            db,
            coordinator,
            kind="approvals_due",
            subject=subject,
            body=body,
            now=now,
            link="/bookings",
            base_url=get_settings().base_url,
        )


def calendar_file(db: Session, booking: Booking, *, now: datetime) -> bytes:
    """The booking's calendar file as it is now (the booking's page and the API offer it)."""
    settings = get_settings()
    return booking_file(db, booking, organizer=settings.mail_from, base_url=settings.base_url, now=now)


def booking_calendar(db: Session, message: OutboxMessage) -> bytes | None:
    """The calendar file an outgoing booking e-mail carries: to the teacher, the booking as it was
    when the e-mail was written (what its text tells; SEQUENCE lets calendar clients keep the newest
    when e-mails arrive or are opened out of order); to the provider's staff, the date itself."""
    if message.booking_id is None:
        return None
    booking = db.get(Booking, message.booking_id)
    if booking is None:
        return None
    settings = get_settings()
    teacher = db.get(User, booking.teacher_id)
    if teacher is not None and teacher.email.lower() == message.to_address.lower():
        return booking_file(
            db, booking, organizer=settings.mail_from, base_url=settings.base_url, now=message.created_at, as_of=message.created_at
        )
    session = db.get(OfferSession, booking.session_id)
    return session_file(db, session, organizer=settings.mail_from, base_url=settings.base_url, now=message.created_at)
