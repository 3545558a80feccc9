"""Calendar feeds (RFC 5545) of sessions, for teachers' and providers' own calendar programs, and
the pieces a booking's own calendar file is made of (app.calendar.booking_files)."""

from collections.abc import Iterable
from datetime import datetime

from icalendar import Calendar, Event

from app.catalogue.models import Offer, OfferSession
from app.i18n import TIMEZONE


def new_calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//STEM-portalen//Region Midtjylland//DA")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    return calendar


def activity_event(session: OfferSession, offer: Offer, *, uid: str, now: datetime) -> Event:
    """The date as an event: when, what and where; the caller adds what is its own (URL, status)."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", session.starts_at.astimezone(TIMEZONE))
    event.add("dtend", session.ends_at.astimezone(TIMEZONE))
    event.add("summary", offer.title)
    event.add("location", ", ".join(p for p in (offer.address, offer.municipality) if p))
    if offer.summary:
        event.add("description", offer.summary)
    return event


def session_event(session: OfferSession, offer: Offer, *, base_url: str, now: datetime, status: str | None = None) -> Event:
    """The date as the feeds have it (`session-<id>@stem-portal`); `status`: the STATUS of the
    viewer's own booking of it (a school's feed), else the date's own."""
    event = activity_event(session, offer, uid=f"session-{session.id}@stem-portal", now=now)
    event.add("url", f"{base_url}/offers/{offer.id}")
    event.add("status", "CANCELLED" if session.cancelled_at else status or "CONFIRMED")
    return event


def sessions_calendar(
    name: str,
    rows: Iterable[tuple[OfferSession, Offer]],
    *,
    base_url: str,
    now: datetime,
    statuses: dict[int, str] | None = None,
) -> bytes:
    """`statuses`: the event STATUS per session id where it is not the date's own (see session_event)."""
    calendar = new_calendar()
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Copenhagen")
    for session, offer in rows:
        status = (statuses or {}).get(session.id)
        calendar.add_component(session_event(session, offer, base_url=base_url, now=now, status=status))
    calendar.add_missing_timezones()
    return calendar.to_ical()
