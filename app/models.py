"""Every table of every domain, imported in one place for Alembic and the tests."""

from app.accounts.models import AccountToken, AuthSession, LoginAttempt, Organisation, User
from app.bookings.models import Booking, BookingEvent
from app.calendar.models import CalendarFeed
from app.catalogue.models import (
    AvailabilityWindow,
    Offer,
    OfferPicture,
    OfferResource,
    OfferSession,
    OfferSubject,
    OfferTheme,
    OfferTravelArea,
    Resource,
    SavedSearch,
    SchoolHoliday,
    SessionResource,
)

__all__ = [
    "AvailabilityWindow",
    "Booking",
    "BookingEvent",
    "AccountToken",
    "AuthSession",
    "CalendarFeed",
    "LoginAttempt",
    "Offer",
    "OfferPicture",
    "OfferResource",
    "OfferSession",
    "OfferSubject",
    "OfferTheme",
    "OfferTravelArea",
    "Organisation",
    "Resource",
    "SavedSearch",
    "SchoolHoliday",
    "SessionResource",
    "User",
]
