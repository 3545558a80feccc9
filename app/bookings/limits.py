"""Limits beyond a session's own capacity: capacity pools shared by several sessions, and
coordinators' per-school caps per offer type and school year.

Called by app.bookings.service inside its locked transaction, after the session's lock and before
the school's (the fixed lock order: sessions, then pools by id, then the school)."""

from datetime import datetime

from sqlmodel import Session

from app.bookings.models import CapacityPool
from app.catalogue.models import Offer, OfferSession


def lock_pools(db: Session, session_id: int) -> list[CapacityPool]:
    """Lock the pools the session is in, in id order; returns them."""
    return []


def pools_fit(db: Session, pools: list[CapacityPool], pupils: int, *, now: datetime) -> bool:
    """One more class of `pupils` fits in every pool (counting what is held now)."""
    return True


def check_school_cap(
    db: Session, offer: Offer, session: OfferSession, school_id: int, *, now: datetime
) -> None:
    """Raise Conflict when the school has used its cap for this offer type in the session's school
    year (runs under the school's lock)."""
