"""Shared by the evaluation tests: a visit that has just taken place (a class of a school in a
municipality, the provider's staff, a mentor on the date), completed by the worker's job."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from app.accounts.models import Organisation, User
from app.bookings import reminders
from app.bookings.models import Booking, BookingStatus
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.config import Settings
from app.evaluations.models import EvaluationRequest, Respondent
from app.mentors.models import Shift, ShiftStatus
from tests.factories import make_mentor, make_provider, make_school, make_user

# The activity's end: the worker completes the booking then and asks for the evaluations.
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@dataclass
class Visit:
    booking: Booking
    offer: Offer
    session: OfferSession
    school: Organisation
    provider: Organisation
    teacher: User
    staff: list[User]  # the provider's active staff
    mentor: User


def make_visit(
    db: Session,
    settings: Settings,
    *,
    ended: datetime = NOW,
    offer_type: OfferType = OfferType.course,
    municipality: str = "Aarhus",
    provider: Organisation | None = None,
    title: str = "Robotter i skolen",
    girls: int | None = 10,
    complete: bool = True,
) -> Visit:
    provider = provider or make_provider(db)
    staff = [make_user(db, "provider", organisation=provider) for _ in range(2)]
    away = make_user(db, "provider", organisation=provider)
    away.is_active = False  # left the company: not asked
    db.add(away)
    offer = Offer(provider_id=provider.id, type=offer_type, status=OfferStatus.published, title=title,
                  grade_min=5, grade_max=9, municipality="Aarhus")
    db.add(offer)
    db.flush()
    session = OfferSession(offer_id=offer.id, starts_at=ended - timedelta(hours=3), ends_at=ended,
                           capacity_pupils=50, mentors_min=1, mentors_max=2)
    db.add(session)
    db.flush()
    school = make_school(db, municipality=municipality)
    teacher = make_user(db, "teacher", organisation=school)
    booking = Booking(session_id=session.id, school_id=school.id, teacher_id=teacher.id,
                      status=BookingStatus.confirmed, class_name="7.a", grade=7, pupils=24, girls=girls,
                      created_at=ended - timedelta(days=30), updated_at=ended - timedelta(days=30))
    db.add(booking)
    mentor = make_mentor(db)
    left = make_mentor(db)  # left the date: not asked
    db.add_all([
        Shift(session_id=session.id, mentor_id=mentor.id, status=ShiftStatus.signed_up, created_at=ended, updated_at=ended),
        Shift(session_id=session.id, mentor_id=left.id, status=ShiftStatus.left, created_at=ended, updated_at=ended),
    ])
    db.commit()
    if complete:
        reminders.complete_and_ask_for_evaluation(db, now=ended, settings=settings)
    return Visit(booking, offer, session, school, provider, teacher, staff, mentor)


def requests_of(db: Session, booking: Booking) -> dict[int, EvaluationRequest]:
    found = db.exec(select(EvaluationRequest).where(EvaluationRequest.booking_id == booking.id)).all()
    return {r.user_id: r for r in found}


def respondent_of(db: Session, booking: Booking, user: User) -> Respondent:
    return requests_of(db, booking)[user.id].respondent


@pytest.fixture
def visit(db, settings) -> Visit:
    return make_visit(db, settings)
