"""A mentor's hours: shifts become completed after their date, with the date's length plus the
travel time the provider's staff confirmed; hours per school year and the visits behind them, for
the mentor's page, the certificate and its public check. Nothing here knows of HTTP.

How a date's length counts (`date_minutes`): each calendar day (Danish time) the date touches
counts at most a working day, WORKING_DAY_MINUTES (8 hours), so a camp's nights or a week-long
date entered as one span never count as round-the-clock volunteering:

- on one day: its length (at most 8 hours);
- over several days whose end is later in the day than their start (a company week Monday 08:00
  to Friday 14:00): the same hours every day, 08:00-14:00 five times (each at most 8 hours);
- over several days otherwise (a camp from 18:00 to 10:00 two days later): each day's part of the
  span, at most 8 hours a day."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, exists, update
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, Role, User
from app.bookings.limits import school_year_name
from app.bookings.models import Booking, BookingStatus
from app.calendar.bounds import school_year_of
from app.catalogue.models import Offer, OfferSession
from app.db import begin_write
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import TIMEZONE, _
from app.mentors.models import Shift, ShiftStatus
from app.mentors.shifts import first_name

WORKING_DAY_MINUTES = 8 * 60
# The travel a mentor may add to one shift, as the table's CHECK constraint allows.
TRAVEL_MIN, TRAVEL_MAX = 0, 600
# A shift whose travel time a mentor may still change: one they hold or have done.
HAS_TRAVEL = (ShiftStatus.signed_up, ShiftStatus.completed)
# A booking that puts a school on a date.
SCHOOL_THERE = (BookingStatus.confirmed, BookingStatus.completed)


@dataclass(frozen=True)
class YearHours:
    """One school year (1 August to 31 July) of a mentor's completed shifts."""

    year: int  # the calendar year it begins in
    minutes: int
    visits: int

    @property
    def label(self) -> str:
        return school_year_name(self.year)  # "2025/26"


@dataclass(frozen=True)
class Visit:
    """One of a mentor's shifts, as the mentor's pages and certificate show it."""

    shift_id: int
    status: ShiftStatus
    starts_at: datetime
    ends_at: datetime
    title: str
    provider: str
    # The schools with a confirmed (or completed) booking of the date, when any.
    school: str | None
    # Counted, once completed (None before).
    minutes: int | None
    travel_minutes: int
    travel_confirmed: bool


@dataclass(frozen=True)
class TravelToConfirm:
    """Travel time a mentor added to a shift on one of the provider's dates. Only the mentor's
    first name: the provider's staff see no more of a (perhaps minor) mentor than that."""

    shift_id: int
    first_name: str
    institution: str | None
    title: str
    starts_at: datetime
    ends_at: datetime
    travel_minutes: int
    status: ShiftStatus


# --- counting a date --------------------------------------------------------------------------


def _minutes(span: timedelta) -> int:
    return max(0, int(span.total_seconds() // 60))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), TIMEZONE)


def date_minutes(starts_at: datetime, ends_at: datetime) -> int:
    """The minutes a date counts for a mentor, by the rule in the module's docstring."""
    start, end = starts_at.astimezone(TIMEZONE), ends_at.astimezone(TIMEZONE)
    first, last = start.date(), end.date()
    if first == last:
        return min(_minutes(ends_at - starts_at), WORKING_DAY_MINUTES)
    # Wall-clock hours of the day (not elapsed time): a week across a change to summer time still
    # runs 08:00-14:00 every day.
    daily = _minutes(datetime.combine(first, end.time()) - datetime.combine(first, start.time()))
    days = (last - first).days + 1
    if daily > 0:
        return days * min(daily, WORKING_DAY_MINUTES)
    total = 0
    for offset in range(days):
        day = first + timedelta(days=offset)
        part = min(ends_at, _midnight(day + timedelta(days=1))) - max(starts_at, _midnight(day))
        total += min(_minutes(part), WORKING_DAY_MINUTES)
    return total


def _counted_minutes(session: OfferSession, shift: Shift) -> int:
    travel = shift.travel_minutes if shift.travel_confirmed_at is not None else 0
    return date_minutes(session.starts_at, session.ends_at) + travel


# --- the worker's job -------------------------------------------------------------------------


def complete_past_shifts(db: Session, *, now: datetime) -> int:
    """The worker's job: every shift still signed up for a date that has ended becomes completed,
    counting the date's minutes plus its travel once confirmed; on a cancelled date it becomes
    removed instead (nobody went). Returns how many were completed.

    Idempotent and safe in several workers at once: each change is one UPDATE whose WHERE asks
    for `signed_up` again, so a row another worker changed first is no longer matched (PostgreSQL
    waits for that worker's row lock, then re-reads the row), and the minutes are computed in
    the same statement from the row's own travel columns, so a confirmation that lands meanwhile
    is counted, once."""
    signed_up = col(Shift.status) == ShiftStatus.signed_up
    # SQLite: one writer at a time from the start (a reader that writes later may be refused).
    begin_write(db)
    ended = db.exec(
        select(OfferSession.id, OfferSession.starts_at, OfferSession.ends_at)
        .where(
            col(OfferSession.ends_at) <= now,
            col(OfferSession.cancelled_at).is_(None),
            exists().where(col(Shift.session_id) == col(OfferSession.id), signed_up),
        )
        # The same order in every worker, so two never wait for each other's rows (a deadlock).
        .order_by(col(OfferSession.id))
    ).all()
    travel = case((col(Shift.travel_confirmed_at).is_not(None), col(Shift.travel_minutes)), else_=0)
    done = 0
    for session_id, starts_at, ends_at in ended:
        done += db.exec(
            update(Shift)
            .where(col(Shift.session_id) == session_id, signed_up)
            .values(status=ShiftStatus.completed, minutes=date_minutes(starts_at, ends_at) + travel, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    cancelled = select(OfferSession.id).where(
        col(OfferSession.ends_at) <= now, col(OfferSession.cancelled_at).is_not(None)
    )
    db.exec(
        update(Shift)
        .where(col(Shift.session_id).in_(cancelled), signed_up)
        .values(status=ShiftStatus.removed, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.commit()
    return done


# --- travel -----------------------------------------------------------------------------------


def _locked_shift(db: Session, shift_id: int) -> tuple[Shift, OfferSession, Offer] | None:
    """The shift, its date and offer, the shift's row locked (PostgreSQL; SQLite: the write lock
    taken up front) so the worker's completion and a confirmation cannot interleave with us."""
    begin_write(db)
    row = db.exec(
        select(Shift, OfferSession, Offer)
        .join(OfferSession, col(OfferSession.id) == col(Shift.session_id))
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .where(col(Shift.id) == shift_id)
        .with_for_update(of=Shift)
        .execution_options(populate_existing=True)
    ).first()
    return tuple(row) if row else None


def own_shift(db: Session, mentor: User, shift_id: int) -> Shift:
    """One of the mentor's own shifts; anyone else's is not found (nor is its existence told)."""
    shift = db.get(Shift, shift_id)
    if shift is None or shift.mentor_id != mentor.id:
        raise NotFound(_("No such shift."))
    return shift


def add_travel(db: Session, mentor: User, shift_id: int, minutes: int, *, now: datetime) -> Shift:
    """The mentor adds (or changes) the travel time of one of their own shifts, before or after
    the date. A new figure must be confirmed again by the provider's staff; until then the shift
    counts without it. The same figure again (a double click) changes nothing."""
    found = _locked_shift(db, shift_id)
    if found is None or found[0].mentor_id != mentor.id:
        raise NotFound(_("No such shift."))
    if not TRAVEL_MIN <= minutes <= TRAVEL_MAX:
        raise InvalidInput(
            _("Write a number of minutes from %(low)d to %(high)d.") % {"low": TRAVEL_MIN, "high": TRAVEL_MAX},
            field="minutes",
        )
    shift, session, _offer = found
    if shift.status not in HAS_TRAVEL:
        raise Conflict(_("You are no longer on this date, so it has no travel time."))
    if minutes == shift.travel_minutes:
        db.commit()
        return shift
    shift.travel_minutes, shift.travel_confirmed_at, shift.updated_at = minutes, None, now
    if shift.status == ShiftStatus.completed:
        shift.minutes = _counted_minutes(session, shift)
    db.add(shift)
    db.commit()
    return shift


def confirm_travel(db: Session, actor: User, shift_id: int, *, now: datetime) -> Shift:
    """The provider's staff confirm the travel time a mentor added to a shift on one of their
    offers' dates; a completed shift counts it at once. Anyone else's shift is not found."""
    found = _locked_shift(db, shift_id)
    if found is None or actor.role != Role.provider or found[2].provider_id != actor.organisation_id:
        raise NotFound(_("No such shift."))
    shift, session, _offer = found
    if shift.status not in HAS_TRAVEL or shift.mentor_id is None:
        raise Conflict(_("The mentor is no longer on this date."))
    if shift.travel_minutes == 0:
        raise Conflict(_("The mentor has not added any travel time."))
    if shift.travel_confirmed_at is None:
        shift.travel_confirmed_at, shift.updated_at = now, now
        if shift.status == ShiftStatus.completed:
            shift.minutes = _counted_minutes(session, shift)
        db.add(shift)
    db.commit()
    return shift


def travel_to_confirm(db: Session, actor: User) -> list[TravelToConfirm]:
    """Travel time awaiting confirmation on the dates of the actor's provider (none for anyone
    else), the earliest date first."""
    if actor.role != Role.provider or actor.organisation_id is None:
        return []
    rows = db.exec(
        select(Shift, OfferSession, Offer, User, Organisation)
        .join(OfferSession, col(OfferSession.id) == col(Shift.session_id))
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .join(User, col(User.id) == col(Shift.mentor_id))
        .outerjoin(Organisation, col(Organisation.id) == col(User.organisation_id))
        .where(
            col(Offer.provider_id) == actor.organisation_id,
            col(Shift.status).in_(HAS_TRAVEL),
            col(Shift.travel_minutes) > 0,
            col(Shift.travel_confirmed_at).is_(None),
        )
        .order_by(col(OfferSession.starts_at), col(Shift.id))
    ).all()
    return [
        TravelToConfirm(
            shift_id=shift.id,
            first_name=first_name(user.name),
            institution=institution.name if institution else None,
            title=offer.title,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            travel_minutes=shift.travel_minutes,
            status=shift.status,
        )
        for shift, session, offer, user, institution in rows
    ]


# --- what a mentor did --------------------------------------------------------------------------


def _schools(db: Session, session_ids: Iterable[int]) -> dict[int, str]:
    """The schools on each date (a confirmed or completed booking), names joined."""
    ids = sorted(set(session_ids))
    if not ids:
        return {}
    rows = db.exec(
        select(Booking.session_id, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(Booking.school_id))
        .where(col(Booking.session_id).in_(ids), col(Booking.status).in_(SCHOOL_THERE))
        .distinct()
    ).all()
    found: dict[int, set[str]] = defaultdict(set)
    for session_id, name in rows:
        found[session_id].add(name)
    return {session_id: ", ".join(sorted(names)) for session_id, names in found.items()}


def _shift_rows(db: Session, mentor_id: int, statuses: Sequence[ShiftStatus], until: datetime | None):
    query = (
        select(Shift, OfferSession, Offer, Organisation)
        .join(OfferSession, col(OfferSession.id) == col(Shift.session_id))
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .join(Organisation, col(Organisation.id) == col(Offer.provider_id))
        .where(col(Shift.mentor_id) == mentor_id, col(Shift.status).in_(statuses))
        .order_by(col(OfferSession.starts_at), col(Shift.id))
    )
    if until is not None:
        query = query.where(col(OfferSession.ends_at) <= until)
    return db.exec(query).all()


def _visits(db: Session, mentor_id: int, statuses: Sequence[ShiftStatus], until: datetime | None) -> list[Visit]:
    rows = _shift_rows(db, mentor_id, statuses, until)
    schools = _schools(db, (session.id for _shift, session, _offer, _provider in rows))
    return [
        Visit(
            shift_id=shift.id,
            status=shift.status,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            title=offer.title,
            provider=provider.name,
            school=schools.get(session.id),
            minutes=shift.minutes,
            travel_minutes=shift.travel_minutes,
            travel_confirmed=shift.travel_confirmed_at is not None,
        )
        for shift, session, offer, provider in rows
    ]


def visits(db: Session, mentor_id: int, *, until: datetime | None = None) -> list[Visit]:
    """The mentor's completed shifts, the earliest first; with `until`, only dates that had ended
    by then (what a certificate issued then listed)."""
    return _visits(db, mentor_id, (ShiftStatus.completed,), until)


def upcoming_shifts(db: Session, mentor_id: int) -> list[Visit]:
    """The shifts the mentor holds and has not yet done, the earliest first (their travel time
    can be added ahead)."""
    return _visits(db, mentor_id, (ShiftStatus.signed_up,), None)


def hours_by_school_year(db: Session, mentor_id: int, *, until: datetime | None = None) -> list[YearHours]:
    """Counted minutes and the number of visits of the mentor's completed shifts per school year
    (1 August - 31 July, by the day the date began, Danish time), the earliest year first."""
    query = (
        select(OfferSession.starts_at, Shift.minutes)
        .join(OfferSession, col(OfferSession.id) == col(Shift.session_id))
        .where(col(Shift.mentor_id) == mentor_id, col(Shift.status) == ShiftStatus.completed)
    )
    if until is not None:
        query = query.where(col(OfferSession.ends_at) <= until)
    minutes: dict[int, int] = defaultdict(int)
    count: dict[int, int] = defaultdict(int)
    for starts_at, counted in db.exec(query).all():
        year = school_year_of(starts_at.astimezone(TIMEZONE).date())
        minutes[year] += counted or 0
        count[year] += 1
    return [YearHours(year=year, minutes=minutes[year], visits=count[year]) for year in sorted(minutes)]


def total(years: Iterable[YearHours]) -> YearHours:
    """All the years together (`year` is meaningless in it)."""
    years = list(years)
    return YearHours(year=0, minutes=sum(y.minutes for y in years), visits=sum(y.visits for y in years))
