"""Every table of every domain, imported in one place for Alembic and the tests."""

from app.accounts.models import (
    AccountToken,
    AuthSession,
    LoginAttempt,
    Organisation,
    PasswordResetRequest,
    User,
)
from app.bookings.models import (
    AllocationRound,
    Booking,
    BookingEvent,
    BookingReminder,
    CapacityPool,
    CapacityPoolSession,
    ExpertProposal,
    SchoolCap,
)
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
from app.mentors.models import MentorMunicipality, MentorProfile, MentorTheme
from app.notifications.models import Notification, OutboxMessage

__all__ = [
    "AccountToken",
    "AllocationRound",
    "AuthSession",
    "AvailabilityWindow",
    "Booking",
    "BookingEvent",
    "BookingReminder",
    "CalendarFeed",
    "CapacityPool",
    "CapacityPoolSession",
    "ExpertProposal",
    "LoginAttempt",
    "MentorMunicipality",
    "MentorProfile",
    "MentorTheme",
    "Notification",
    "Offer",
    "OfferPicture",
    "OfferResource",
    "OfferSession",
    "OfferSubject",
    "OfferTheme",
    "OfferTravelArea",
    "Organisation",
    "OutboxMessage",
    "PasswordResetRequest",
    "Resource",
    "SavedSearch",
    "SchoolCap",
    "SchoolHoliday",
    "SessionResource",
    "User",
]
