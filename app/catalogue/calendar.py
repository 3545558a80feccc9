"""Calendar feeds (RFC 5545) of sessions, for teachers' and providers' own calendar programs."""

from collections.abc import Iterable
from datetime import datetime

from icalendar import Calendar, Event

from app.catalogue.models import Offer, OfferSession
from app.i18n import TIMEZONE


def sessions_calendar(
    name: str, rows: Iterable[tuple[OfferSession, Offer]], *, base_url: str, now: datetime
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//STEM-portalen//Region Midtjylland//DA")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Copenhagen")
    for session, offer in rows:
        event = Event()
        event.add("uid", f"session-{session.id}@stem-portal")
        event.add("dtstamp", now)
        event.add("dtstart", session.starts_at.astimezone(TIMEZONE))
        event.add("dtend", session.ends_at.astimezone(TIMEZONE))
        event.add("summary", offer.title)
        event.add("location", ", ".join(p for p in (offer.address, offer.municipality) if p))
        event.add("url", f"{base_url}/offers/{offer.id}")
        event.add("status", "CANCELLED" if session.cancelled_at else "CONFIRMED")
        if offer.summary:
            event.add("description", offer.summary)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
