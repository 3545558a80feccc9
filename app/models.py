"""Every table of every domain, imported in one place for Alembic and the tests."""

from app.accounts.models import AccountToken, AuthSession, LoginAttempt, Organisation, User
from app.catalogue.models import (
    Offer,
    OfferPicture,
    OfferSession,
    OfferSubject,
    OfferTheme,
    SavedSearch,
    SchoolHoliday,
)

__all__ = [
    "AccountToken",
    "AuthSession",
    "LoginAttempt",
    "Offer",
    "OfferPicture",
    "OfferSession",
    "OfferSubject",
    "OfferTheme",
    "Organisation",
    "SavedSearch",
    "SchoolHoliday",
    "User",
]
