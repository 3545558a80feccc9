"""What each role's start page shows: the few things that wait for them, the most urgent first.

Plain queries with no HTTP; where a domain already answers the question (a provider's proposals, a
coordinator's approval queue, a mentor's shifts and hours, the barometer) its function is used."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.access_requests import service as access_requests
from app.accounts.models import Organisation, Role, SchoolLevel, User
from app.barometer import service as barometer
from app.bookings import expert
from app.bookings import service as bookings
from app.bookings.models import Booking, BookingStatus, ProposalStatus
from app.catalogue import service as catalogue
from app.catalogue.models import Offer, OfferSession, OfferType
from app.config import Settings
from app.evaluations import service as evaluations
from app.mentors import hours, shifts
from app.mentors.models import MentorProfile, MentorStatus
from app.notifications import service as notifications

# How many rows each list on a start page shows; the full list is a link away.
SHOWN = 5

# The figures the public home page shows from the barometer, in this order.
HEADLINE_FIGURES = ("pupils", "girls_share", "schools_reached", "bookings")

# Grades from this one up are upper-secondary (the barometer's rule, barometer.service).
FIRST_UPPER_SECONDARY_GRADE = barometer.PRIMARY_MAX_GRADE + 1


@dataclass(frozen=True)
class BookedDate:
    """A booking with its date and offer, as a list on a start page shows it."""

    booking: Booking
    session: OfferSession
    offer: Offer


def _booked_dates(db: Session, query) -> list[BookedDate]:
    rows = db.exec(
        query.join(OfferSession, col(OfferSession.id) == col(Booking.session_id)).join(
            Offer, col(Offer.id) == col(OfferSession.offer_id)
        )
    ).all()
    return [BookedDate(*row) for row in rows]


# --- the teacher ---------------------------------------------------------------------------------


def coming_bookings(db: Session, teacher: User, *, now: datetime, limit: int = SHOWN) -> list[BookedDate]:
    """The school's bookings of dates still to come that are not called off, soonest first."""
    query = (
        select(Booking, OfferSession, Offer)
        .where(
            Booking.school_id == teacher.organisation_id,
            # A pending or offered booking whose hold ran out is over, though the worker has yet to say so.
            or_(bookings.holds_seats(now), Booking.status == BookingStatus.waitlisted),
            OfferSession.starts_at > now,
            col(OfferSession.cancelled_at).is_(None),
        )
        .order_by(col(OfferSession.starts_at), col(Booking.id))
        .limit(limit)
    )
    return _booked_dates(db, query)


def places_to_take(db: Session, teacher: User, *, now: datetime) -> list[BookedDate]:
    """Places offered to the school (a freed place on a waiting list, or a place from an
    allocation round) that the teacher must take before the hold runs out, the soonest end first."""
    query = (
        select(Booking, OfferSession, Offer)
        .where(
            Booking.school_id == teacher.organisation_id,
            Booking.status == BookingStatus.offered,
            col(Booking.hold_until) > now,
        )
        .order_by(col(Booking.hold_until), col(Booking.id))
    )
    return _booked_dates(db, query)


def times_to_answer(db: Session, teacher: User) -> list[expert.Listed]:
    """Expert visits for which the provider proposed another time the school has to answer."""
    return [row for row in expert.school_proposals(db, teacher, limit=0) if row[0].status == ProposalStatus.counter_proposed]


@dataclass(frozen=True)
class Suggestions:
    """Offers with free places that fit the school, and in words why they were picked."""

    municipality: str
    grade: int | None
    hits: list[catalogue.OfferHit]


def suggestions(db: Session, teacher: User, *, now: datetime, limit: int = 3) -> Suggestions | None:
    """Published offers with a free place in the school's municipality, for the grade of the
    school's latest booking (or, without one, the first grade of its level), that the school has
    no coming booking of. Simple on purpose: the page says which rule picked them."""
    school = db.get(Organisation, teacher.organisation_id) if teacher.organisation_id else None
    if school is None:
        return None
    grade = db.exec(
        select(Booking.grade).where(Booking.school_id == school.id).order_by(col(Booking.created_at).desc()).limit(1)
    ).first()
    if grade is None and school.school_level == SchoolLevel.upper_secondary:
        grade = FIRST_UPPER_SECONDARY_GRADE
    filters = catalogue.CatalogueFilters(municipality=school.municipality, grade=grade, free_places=True)
    booked = {row.offer.id for row in coming_bookings(db, teacher, now=now, limit=50)}
    hits, _total = catalogue.search_offers(db, filters, now=now, limit=limit + len(booked), sessions_per_offer=1)
    return Suggestions(school.municipality, grade, [hit for hit in hits if hit.offer.id not in booked][:limit])


@dataclass
class TeacherStart:
    coming: list[BookedDate]
    to_take: list[BookedDate]
    times: list[expert.Listed]
    evaluations: list[evaluations.OpenRequest]
    suggested: Suggestions | None


def teacher_start(db: Session, teacher: User, *, now: datetime) -> TeacherStart:
    return TeacherStart(
        coming=coming_bookings(db, teacher, now=now),
        to_take=places_to_take(db, teacher, now=now),
        times=times_to_answer(db, teacher),
        evaluations=evaluations.open_requests(db, teacher, now=now),
        suggested=suggestions(db, teacher, now=now),
    )


# --- the provider --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateFill:
    """One of the provider's coming dates and how full it is."""

    session: OfferSession
    offer: Offer
    pupils: int
    classes: int
    waiting: int

    @property
    def full(self) -> bool:
        classes_full = self.session.capacity_classes is not None and self.classes >= self.session.capacity_classes
        return self.pupils >= self.session.capacity_pupils or classes_full


def next_dates(
    db: Session, provider_user: User, *, now: datetime, limit: int = SHOWN, with_waiting: bool = False
) -> list[DateFill]:
    """The provider's next dates that go ahead, soonest first, with the places they hold;
    `with_waiting`: only those where classes wait for a place (more room would let them in)."""
    query = (
        select(OfferSession, Offer)
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .where(
            Offer.provider_id == provider_user.organisation_id,
            OfferSession.starts_at > now,
            col(OfferSession.cancelled_at).is_(None),
        )
    )
    if with_waiting:
        waitlisted = select(Booking.session_id).where(Booking.status == BookingStatus.waitlisted)
        query = query.where(col(OfferSession.id).in_(waitlisted))
    rows = db.exec(query.order_by(col(OfferSession.starts_at), col(OfferSession.id)).limit(limit)).all()
    ids = [session.id for session, _offer in rows]
    held = bookings.held(db, ids, now=now)
    waiting = bookings.waiting(db, ids)
    return [
        DateFill(session, offer, *held.get(session.id, (0, 0)), waiting.get(session.id, 0)) for session, offer in rows
    ]


@dataclass
class ProviderStart:
    dates: list[DateFill]
    waiting: list[DateFill]
    pending: list[BookedDate]
    pending_total: int
    proposals: list[expert.Listed]


def provider_start(db: Session, provider_user: User, *, now: datetime) -> ProviderStart:
    pending, total = bookings.list_bookings(
        db, provider_user, status=BookingStatus.pending, starts_from=now, limit=SHOWN, course_once=True
    )
    proposals = [
        row for row in expert.provider_proposals(db, provider_user, limit=0) if row[0].status == ProposalStatus.proposed
    ]
    return ProviderStart(
        dates=next_dates(db, provider_user, now=now),
        waiting=next_dates(db, provider_user, now=now, with_waiting=True),
        pending=_with_dates(db, pending),
        pending_total=total,
        proposals=proposals,
    )


def _with_dates(db: Session, found) -> list[BookedDate]:
    ids = [b.id for b in found]
    if not ids:
        return []
    by_id = {row.booking.id: row for row in _booked_dates(db, select(Booking, OfferSession, Offer).where(col(Booking.id).in_(ids)))}
    return [by_id[i] for i in ids]


# --- the coordinator and the admin ---------------------------------------------------------------


@dataclass
class StaffStart:
    awaiting: list[BookedDate]
    awaiting_total: int
    short_of_mentors: list[tuple[OfferSession, Offer, int]]
    undelivered: int | None  # None: not theirs to see (a municipality's coordinator)
    overdue: int | None
    access_requests: int = 0  # requests for an account waiting for this coordinator


def awaiting_approval(db: Session, staff: User, *, limit: int = SHOWN) -> tuple[list[BookedDate], int]:
    """The bookings waiting for a coordinator's answer, the one whose approval deadline (its hold)
    runs out first at the top (the approval queue's order), and how many wait in all."""
    urgent, total = bookings.list_bookings(
        db, staff, status=BookingStatus.pending, limit=limit, course_once=True, most_urgent_first=True
    )
    return _with_dates(db, urgent), total


def dates_short_of_mentors(db: Session, staff: User, *, now: datetime, within: timedelta) -> list[tuple[OfferSession, Offer, int]]:
    """Mentoring dates still short of mentors soon, in the coordinator's municipality if they have one."""
    found = shifts.short_of_mentors(db, now=now, within=within)
    if staff.role == Role.coordinator and staff.municipality:
        found = [row for row in found if row[1].municipality == staff.municipality]
    return found


def staff_start(db: Session, staff: User, *, now: datetime, settings: Settings) -> StaffStart:
    awaiting, total = awaiting_approval(db, staff)
    regional = staff.is_regional_staff
    return StaffStart(
        awaiting=awaiting,
        awaiting_total=total,
        short_of_mentors=dates_short_of_mentors(db, staff, now=now, within=timedelta(days=settings.mentor_shortage_days)),
        undelivered=len(notifications.undelivered(db)) if regional else None,
        overdue=notifications.overdue(db, now=now) if regional else None,
        access_requests=access_requests.waiting_count(db, staff),
    )


# --- the mentor ----------------------------------------------------------------------------------


@dataclass
class MentorStart:
    status: MentorStatus | None
    coming: list = field(default_factory=list)
    open_total: int = 0
    done: hours.YearHours | None = None


def mentor_start(db: Session, mentor: User, *, now: datetime) -> MentorStart:
    profile = db.get(MentorProfile, mentor.id)
    done = hours.total(hours.hours_by_school_year(db, mentor.id))
    if profile is None or profile.status != MentorStatus.approved:
        # Not yet (or no longer) one who takes shifts: the page says what comes first.
        return MentorStart(status=profile.status if profile else None, done=done)
    return MentorStart(
        status=profile.status,
        coming=shifts.coming_shifts(db, mentor, limit=SHOWN),
        open_total=shifts.open_shifts(db, mentor, now=now, limit=1)[1],
        done=done,
    )


# --- the public ----------------------------------------------------------------------------------


@dataclass
class PublicStart:
    girls_day: list[catalogue.OfferHit]
    company_weeks: list[catalogue.OfferHit]
    year: int
    figures: dict[str, object]
    as_of: datetime | None


def highlights(db: Session, offer_type: OfferType, *, now: datetime, limit: int = 3) -> list[catalogue.OfferHit]:
    """The soonest published offers of a kind with a date still to come, each with that date."""
    hits, _total = catalogue.search_offers(
        db, catalogue.CatalogueFilters(type=offer_type), now=now, limit=limit, sessions_per_offer=1
    )
    return [hit for hit in hits if hit.next_sessions]


def public_start(db: Session, *, now: datetime) -> PublicStart:
    year = barometer.current_year(now)
    data = barometer.figures(db, year=year, now=now)  # the stored figures, kept fresh by the worker
    totals = data.get("totals") or {}
    try:
        as_of = datetime.fromisoformat(data["as_of"]) if data.get("as_of") else None
    except (TypeError, ValueError):
        as_of = None
    return PublicStart(
        girls_day=highlights(db, OfferType.girls_day, now=now),
        company_weeks=highlights(db, OfferType.company_week, now=now),
        year=year,
        figures={name: totals.get(name) for name in HEADLINE_FIGURES},
        as_of=as_of,
    )

