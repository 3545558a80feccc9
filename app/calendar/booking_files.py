"""A booking's activity as an iCalendar scheduling message (RFC 5545 with RFC 5546's methods): the
file every booking e-mail carries and the booking's page and API offer for download.

One booking is one calendar event, `booking-<id>@stem-portal`, whatever happens to it: a client that
added it from one e-mail finds it again by that UID in the next. Its SEQUENCE is the number of
changes the booking has had (its BookingEvents) less one, so each version a teacher receives is
newer than the one before and clients keep the newest, also when an older e-mail is opened later
or delivered late. A booking is PUBLISHed as the event: CONFIRMED once it is approved (or has
taken place), TENTATIVE while it still awaits approval or a place offered is not yet taken, and
pencilled in (TENTATIVE, not blocking the time) while it waits on the waiting list; one that
ended is a CANCEL of the same UID, which removes the event from a calendar it was added to."""

from datetime import datetime
from email.utils import parseaddr

from icalendar import Event, vCalAddress
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, User
from app.bookings.models import Booking, BookingEvent, BookingStatus
from app.catalogue.calendar import activity_event, new_calendar, session_event
from app.catalogue.models import Offer, OfferSession
from app.i18n import _
from app.mentors.models import MentorProfile, Shift, ShiftStatus

ENDED = (BookingStatus.declined, BookingStatus.cancelled, BookingStatus.expired)


def booking_uid(booking: Booking) -> str:
    return f"booking-{booking.id}@stem-portal"


def booking_version(db: Session, booking: Booking, *, as_of: datetime | None = None) -> tuple[BookingStatus, int]:
    """The state the booking was in at `as_of` (now when None) and that version's SEQUENCE."""
    query = select(BookingEvent.to_status, BookingEvent.at).where(BookingEvent.booking_id == booking.id)
    events = db.exec(query.order_by(col(BookingEvent.id))).all()
    if not events:
        return booking.status, 0
    if as_of is not None:
        # An event is stamped with the same `now` as the messages written with it. A message older
        # than the booking itself still describes its first version.
        events = events[: max(1, sum(1 for _status, at in events if at <= as_of))]
    return events[-1][0], len(events) - 1


def booking_file(
    db: Session, booking: Booking, *, organizer: str, base_url: str, now: datetime, as_of: datetime | None = None
) -> bytes:
    """The booking as it was at `as_of` (now when None), stamped `now`; `organizer` is the portal's
    sender address (RFC 5546 wants an ORGANIZER, and mail clients trust a CANCEL from the address
    the event came from)."""
    session = db.get(OfferSession, booking.session_id)
    offer = db.get(Offer, session.offer_id)
    status, sequence = booking_version(db, booking, as_of=as_of)
    event_status = event_status_of(status)
    method = "CANCEL" if event_status == "CANCELLED" else "PUBLISH"
    event = _organised_by(activity_event(session, offer, uid=booking_uid(booking), now=now), organizer)
    event.add("url", f"{base_url}/bookings/{booking.id}")
    if session.mentors_max and (mentors := _mentors(db, session)):
        description = str(event.pop("description", ""))
        event.add("description", "\n".join(filter(None, [description, _("Mentors:"), *mentors])))
    event.add("sequence", sequence)
    event.add("status", event_status)
    if status == BookingStatus.waitlisted:
        event.add("transp", "TRANSPARENT")  # pencilled in: the time is not taken yet
    return _message(method, event)


def event_status_of(status: BookingStatus) -> str:
    """The calendar event's STATUS for a booking in this state (its file, the school's feed): only
    an approved booking (or one that took place) is CONFIRMED; one that may still not happen
    (awaiting approval, a place offered, the waiting list) is TENTATIVE."""
    if status in ENDED:
        return "CANCELLED"
    if status in (BookingStatus.confirmed, BookingStatus.completed):
        return "CONFIRMED"
    return "TENTATIVE"


def _mentors(db: Session, session: OfferSession) -> list[str]:
    """The mentors who come: what a school sees of them (first name, institution, study line)."""
    rows = db.exec(
        select(User.name, Organisation.name, MentorProfile.study_programme)
        .join(Shift, Shift.mentor_id == User.id)
        .join(MentorProfile, MentorProfile.user_id == User.id)
        .join(Organisation, Organisation.id == MentorProfile.institution_id)
        .where(Shift.session_id == session.id, col(Shift.status).in_((ShiftStatus.signed_up, ShiftStatus.completed)))
        .order_by(col(Shift.id))
    ).all()
    return [f"{name.split()[0]}, {institution}, {study}" for name, institution, study in rows if name.strip()]


def session_file(db: Session, session: OfferSession, *, organizer: str, base_url: str, now: datetime) -> bytes:
    """The date itself, as the provider's calendar feed has it (`session-<id>@stem-portal`): what a
    booking e-mail to the provider's staff carries, since one class's booking ending does not end
    the date for the others."""
    event = session_event(session, db.get(Offer, session.offer_id), base_url=base_url, now=now)
    event.add("sequence", 0)
    return _message("PUBLISH", _organised_by(event, organizer))


def _organised_by(event: Event, organizer: str) -> Event:
    name, address = parseaddr(organizer)
    sender = vCalAddress(f"mailto:{address}")
    if name:
        sender.params["cn"] = name
    event.add("organizer", sender)
    return event


def _message(method: str, event: Event) -> bytes:
    calendar = new_calendar()
    calendar.add("method", method)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
