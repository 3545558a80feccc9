"""Shared by the booking tests: one published course with a session of 50 pupils / 2 classes, four
teachers at four schools, and a helper that books as one of them at a fixed moment."""

from datetime import UTC, datetime, timedelta

import pytest

from app.bookings import service as bookings
from app.bookings.schemas import BookingIn
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from tests.factories import make_provider, make_school, make_user

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def world(db):
    return make_world(db)


def make_world(db):
    provider_org = make_provider(db)
    offer = Offer(provider_id=provider_org.id, type=OfferType.course, status=OfferStatus.published, title="Robotter",
                  grade_min=5, grade_max=9, municipality="Aarhus", requires_approval=True, max_pupils=30)
    db.add(offer)
    db.flush()
    starts = NOW + timedelta(days=30)
    session = OfferSession(offer_id=offer.id, starts_at=starts, ends_at=starts + timedelta(hours=3), capacity_pupils=50, capacity_classes=2)
    db.add(session)
    db.commit()
    teachers = [make_user(db, "teacher", organisation=make_school(db)) for _ in range(4)]
    return offer, session, teachers


def book(db, teacher, session, pupils=20, *, key=None, **extra):
    data = BookingIn(session_id=session.id, class_name=extra.pop("class_name", "7.a"), grade=extra.pop("grade", 7), pupils=pupils, **extra)
    return bookings.book_session(db, teacher, data, now=NOW, idempotency_key=key)


