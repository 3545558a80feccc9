"""What teachers, providers and coordinators are told when a booking changes: a message in their
inbox and an e-mail (with the booking's calendar file) through the outbox, in each recipient's
own language. Written in the same transaction as the change, except for a new booking: its
transaction runs while others wait for the date's lock, so the worker tells of it afterwards,
from the booking's first event (`tell_about_new_bookings`).

Nobody is told something out of date after something newer: before a later change of a booking is
told, what its first event still has to tell is told first, or dropped where the change made it
untrue (see `_tell_first_event`)."""

from datetime import datetime

from sqlmodel import Session, col, select

from app.accounts.models import Organisation, Role, User
from app.bookings.models import Booking, BookingEvent, BookingStatus
from app.calendar.booking_files import booking_file, session_file
from app.catalogue.models import Offer, OfferSession
from app.config import Settings, get_settings
from app.db import begin_write
from app.evaluations import service as evaluations
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
    the booking is in)."""
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
        case "cancelled":  # the school (or a coordinator for it) cancelled: "afbestilt"
            return _("Booking cancelled: %(title)s"), _(
                "The booking of class %(class_name)s for %(title)s on %(when)s is cancelled. %(reason)s"
            )
        case "date_cancelled":  # the provider called the date off: "aflyst"
            return _("Called off: %(title)s"), _(
                "The provider has cancelled %(title)s on %(when)s, which class %(class_name)s was booked for. "
                "The booking is cancelled. Find another activity in the catalogue."
            )
        case "date_cancelled_while_waiting":
            return _("Called off: %(title)s"), _(
                "The provider has cancelled %(title)s on %(when)s, for which class %(class_name)s was on the waiting "
                "list. Find another activity in the catalogue."
            )
        case "moved":
            return _("New time: %(title)s"), _(
                "The provider has moved %(title)s, which class %(class_name)s is signed up for, to %(when)s. "
                "The calendar file in this e-mail has the new time."
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
    raise ValueError(kind)


def tell_teacher(db: Session, booking: Booking, kind: str, *, now: datetime) -> None:
    """Tell the booking's teacher what happened (kinds: see `_teacher_message`), after what its
    first event still has to tell."""
    _tell_first_events(db, booking, now=now)
    _tell_teacher(db, booking, kind, now=now)


def _tell_teacher(db: Session, booking: Booking, kind: str, *, now: datetime) -> None:
    teacher = db.get(User, booking.teacher_id)
    session, offer = _context(db, booking)
    with language(teacher.language):
        subject, first = _teacher_message(kind, booking, booking.status)
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


def ask_for_evaluation(db: Session, booking: Booking, *, now: datetime, settings: Settings) -> int:
    """After the activity: what the booking's first event still has to tell goes out first, then
    the teacher, the provider's staff and the mentors are asked for an evaluation (app.evaluations).
    Returns how many were asked."""
    _tell_first_events(db, booking, now=now)
    return evaluations.ask_for_booking(db, booking, now=now, settings=settings)


def tell_provider(db: Session, booking: Booking, kind: str, *, now: datetime) -> None:
    """Tell the provider's staff about a new booking (inbox only) or a cancellation (also e-mail),
    after what the booking's first event still has to tell (a cancellation is told after the
    booking it cancels, also when that was not told yet)."""
    _tell_first_events(db, booking, now=now, end_told_to_provider=kind == "cancelled")
    _tell_provider(db, booking, kind, now=now)


def _tell_provider(db: Session, booking: Booking, kind: str, *, now: datetime) -> None:
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


# How many first events the worker tells of in one transaction. A change of one of these bookings
# waits for that transaction (`_tell_first_events`), so it is kept short.
TELL_CHUNK = 50


def tell_about_new_bookings(db: Session, *, now: datetime, batch: int = 500) -> int:
    """The worker's job: tell the teacher (inbox and e-mail) and the provider's staff (inbox) of
    each new booking whose first event is not yet told. Events are claimed with SKIP LOCKED, so
    two workers never tell the same booking twice. Returns how many bookings were told of."""
    told = 0
    while told < batch:
        begin_write(db)
        events = db.exec(
            select(BookingEvent)
            .where(col(BookingEvent.told_at).is_(None))
            .order_by(col(BookingEvent.id))
            .limit(min(TELL_CHUNK, batch - told))
            .with_for_update(skip_locked=True)
        ).all()
        for event in events:
            _tell_first_event(db, event, now=now)
        db.commit()
        told += len(events)
        if len(events) < TELL_CHUNK:
            break
    return told


def _tell_first_events(db: Session, booking: Booking, *, now: datetime, end_told_to_provider: bool = False) -> None:
    """Before a change of the booking is told: tell what its first event (a long course's: its
    first date's) still has to tell, in the same transaction, so that it goes out first.

    The event is locked, not skipped: when the worker is telling of it right now, the change
    waits the moment it takes to commit (TELL_CHUNK) and then finds it told."""
    if booking.course_id is None:
        of_booking = col(BookingEvent.booking_id) == booking.id
    else:
        of_booking = col(BookingEvent.booking_id).in_(select(Booking.id).where(Booking.course_id == booking.course_id))
    untold = db.exec(
        select(BookingEvent).where(of_booking, col(BookingEvent.told_at).is_(None)).order_by(col(BookingEvent.id)).with_for_update()
    ).all()
    for event in untold:
        _tell_first_event(db, event, now=now, end_told_to_provider=end_told_to_provider)


def _tell_first_event(db: Session, event: BookingEvent, *, now: datetime, end_told_to_provider: bool = False) -> None:
    """Tell of a new booking, as it still is.

    The teacher hears of it only while it is still as it was booked: once it has moved on,
    "received, your places are held while a coordinator approves" after "approved" (or "on the
    waiting list" after "a place is free for you", or "request received, we write to you after
    the draw" after the draw) would be out of date, and the newer message tells where it stands
    (or the teacher changed it themselves). The provider's staff hear of a booking that holds
    places while it still does, or when its cancellation is told to them right after: they learn
    of every class coming, and of no booking that ended unseen."""
    booking = db.get(Booking, event.booking_id)
    drawn = booking.round_id is not None and booking.queue_rank is not None
    if booking.status == event.to_status and not drawn:
        _tell_teacher(db, booking, "booked", now=now)
    holds = booking.status in (BookingStatus.pending, BookingStatus.confirmed, BookingStatus.offered)
    if event.to_status != BookingStatus.waitlisted and (holds or end_told_to_provider):
        _tell_provider(db, booking, "booked", now=now)
    event.told_at = now
    db.add(event)


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
        with language(teacher.language):  # its words (the mentors coming) in the e-mail's language
            return booking_file(
                db, booking, organizer=settings.mail_from, base_url=settings.base_url, now=message.created_at, as_of=message.created_at
            )
    session = db.get(OfferSession, booking.session_id)
    return session_file(db, session, organizer=settings.mail_from, base_url=settings.base_url, now=message.created_at)
