"""Which sessions a viewer sees in a period of the shared calendar, and the per-user calendar feeds.

Plain functions that take the database session, the viewer and `now`; nothing here knows HTTP.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import delete, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts import secrets
from app.accounts.models import Organisation, Role, User
from app.bookings import service as bookings
from app.bookings.models import Booking
from app.calendar.booking_files import event_status_of
from app.calendar.bounds import FIRST_DAY, LAST_DAY
from app.calendar.models import CalendarFeed
from app.catalogue.calendar import sessions_calendar
from app.catalogue.models import Offer, OfferSession, OfferStatus
from app.catalogue.service import CatalogueFilters, offer_conditions
from app.i18n import TIMEZONE, _, language
from app.mentors.shifts import my_shifts

# --- periods -----------------------------------------------------------------------------------


class View(StrEnum):
    month = "month"
    week = "week"
    agenda = "agenda"


AGENDA_DAYS = 60


@dataclass(frozen=True)
class Period:
    """The days one view of the calendar shows (first to last, both included), and its neighbours."""

    view: View
    first: date
    last: date
    previous: date
    next: date

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.first, time.min, TIMEZONE)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, TIMEZONE)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def weeks(self) -> list[list[date]]:
        """Monday-to-Sunday rows that cover the period (a month grid starts and ends mid-week)."""
        monday = self.first - timedelta(days=self.first.weekday())
        rows = []
        while monday <= self.last:
            rows.append([monday + timedelta(days=n) for n in range(7)])
            monday += timedelta(days=7)
        return rows


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def period(view: View, anchor: date) -> Period:
    """The month, the Monday-to-Sunday week (Danish weeks start on Monday), or the next 60 days."""
    anchor = min(max(anchor, FIRST_DAY), LAST_DAY)
    if view == View.month:
        first = anchor.replace(day=1)
        following = _first_of_next_month(first)
        return Period(
            view,
            first,
            following - timedelta(days=1),
            (first - timedelta(days=1)).replace(day=1),
            following,
        )
    if view == View.week:
        first = anchor - timedelta(days=anchor.weekday())
        return Period(
            view,
            first,
            first + timedelta(days=6),
            first - timedelta(days=7),
            first + timedelta(days=7),
        )
    return Period(
        view,
        anchor,
        anchor + timedelta(days=AGENDA_DAYS - 1),
        anchor - timedelta(days=AGENDA_DAYS),
        anchor + timedelta(days=AGENDA_DAYS),
    )


# --- what a viewer sees ------------------------------------------------------------------------


@dataclass
class CalendarEntry:
    """One session as the calendar shows it, with how full it is."""

    session: OfferSession
    offer: Offer
    provider_name: str
    # Seats held by bookings now (see bookings.service.held).
    held_pupils: int = 0
    # Set when the entry is the viewer's school's own booking of the session; see school_bookings.
    booking: Booking | None = None

    @property
    def free_pupils(self) -> int:
        return max(0, self.session.capacity_pupils - self.held_pupils)

    @property
    def cancelled(self) -> bool:
        return self.session.cancelled_at is not None

    @property
    def local_starts_at(self) -> datetime:
        return self.session.starts_at.astimezone(TIMEZONE)

    @property
    def local_ends_at(self) -> datetime:
        return self.session.ends_at.astimezone(TIMEZONE)

    def local_days(self) -> list[date]:
        """The Danish calendar days the session touches (a company week touches five)."""
        first = self.local_starts_at.date()
        # A session that ends at midnight does not touch the day after.
        last = (self.local_ends_at - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# The longest session the catalogue allows (catalogue.service._check_session); lets the period
# query use the index on starts_at for sessions that began before the period and still run.
LONGEST_SESSION = timedelta(days=31)


def _viewer_conditions(viewer: User | None, now: datetime) -> list:
    """Which sessions the viewer may see at all, whatever the filters.

    A provider sees every session of its own offers, drafts and cancelled ones included, to plan;
    coordinators and admins see the sessions of published offers, past ones too (a municipality's
    coordinator only those in the municipality); everybody else sees the sessions that can still
    be booked."""
    if viewer is not None and viewer.role == Role.provider:
        return [Offer.provider_id == viewer.organisation_id]
    published = [Offer.status == OfferStatus.published, col(OfferSession.cancelled_at).is_(None)]
    if viewer is not None and viewer.is_staff:
        if viewer.municipality:
            return [*published, Offer.municipality == viewer.municipality]
        return published
    return [
        *published,
        OfferSession.starts_at > now,
        or_(col(OfferSession.booking_deadline).is_(None), OfferSession.booking_deadline > now),
    ]


def visible_sessions(
    db: Session,
    viewer: User | None,
    starts_at: datetime,
    ends_at: datetime,
    *,
    filters: CatalogueFilters | None = None,
    now: datetime,
    limit: int | None = None,
) -> list[CalendarEntry]:
    """The sessions the viewer sees that overlap [starts_at, ends_at), soonest first."""
    query = (
        select(OfferSession, Offer, Organisation.name)
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .join(Organisation, col(Organisation.id) == col(Offer.provider_id))
        .where(
            OfferSession.starts_at < ends_at,
            OfferSession.starts_at > starts_at - LONGEST_SESSION,
            OfferSession.ends_at > starts_at,
            *_viewer_conditions(viewer, now),
            *offer_conditions(filters or CatalogueFilters()),
        )
        .order_by(col(OfferSession.starts_at), col(Offer.title), col(OfferSession.id))
    )
    if limit is not None:
        query = query.limit(limit)
    entries = [CalendarEntry(session, offer, name) for session, offer, name in db.exec(query).all()]
    held = bookings.held(db, [e.session.id for e in entries], now=now)
    for entry in entries:
        entry.held_pupils = held.get(entry.session.id, (0, 0))[0]
    return entries


def school_bookings(
    db: Session, viewer: User | None, starts_at: datetime, ends_at: datetime, *, now: datetime
) -> list[CalendarEntry]:
    """The bookings of the viewer's school (a teacher's) in the period, whatever the filters and
    whether or not the session is still open; calendar_entries shows them first on each day."""
    if viewer is None or viewer.role != Role.teacher or viewer.organisation_id is None:
        return []
    rows = db.exec(
        select(Booking, OfferSession, Offer, Organisation.name)
        .join(OfferSession, col(OfferSession.id) == col(Booking.session_id))
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .join(Organisation, col(Organisation.id) == col(Offer.provider_id))
        .where(
            Booking.school_id == viewer.organisation_id,
            col(Booking.status).in_(bookings.ACTIVE),
            OfferSession.starts_at < ends_at,
            OfferSession.ends_at > starts_at,
        )
    ).all()
    held = bookings.held(db, [session.id for _b, session, _o, _n in rows], now=now)
    return [
        CalendarEntry(session, offer, name, held_pupils=held.get(session.id, (0, 0))[0], booking=booking)
        for booking, session, offer, name in rows
    ]


def calendar_entries(
    db: Session,
    viewer: User | None,
    starts_at: datetime,
    ends_at: datetime,
    *,
    filters: CatalogueFilters | None = None,
    now: datetime,
    limit: int | None = None,
    only_booked: bool = False,
) -> list[CalendarEntry]:
    """Everything the viewer's calendar shows in the period: their school's bookings, then the
    sessions they may see that match the filters (`only_booked`: the school's bookings alone)."""
    booked = school_bookings(db, viewer, starts_at, ends_at, now=now)
    if only_booked:
        return sorted(booked, key=lambda e: (e.session.starts_at, e.offer.title, e.session.id))
    booked_ids = {e.session.id for e in booked}
    sessions = [
        e
        for e in visible_sessions(
            db, viewer, starts_at, ends_at, filters=filters, now=now, limit=limit
        )
        if e.session.id not in booked_ids
    ]
    return sorted(
        booked + sessions,
        key=lambda e: (e.session.starts_at, e.booking is None, e.offer.title, e.session.id),
    )


def entries_by_day(
    entries: Iterable[CalendarEntry], first: date, last: date
) -> dict[date, list[CalendarEntry]]:
    """Entries under every day of [first, last] they touch: on each day the school's bookings, then
    what starts that day, then what began earlier and is still running (a company week)."""
    days: dict[date, list[CalendarEntry]] = defaultdict(list)
    for entry in entries:
        for day in entry.local_days():
            if first <= day <= last:
                days[day].append(entry)
    for day, day_entries in days.items():
        day_entries.sort(
            key=lambda e: (
                e.booking is None,
                e.local_starts_at.date() < day,
                e.session.starts_at,
                e.offer.title,
                e.session.id,
            )
        )
    return days


# --- calendar feeds ----------------------------------------------------------------------------

# What a feed holds: a month back (so last week's events do not vanish from calendars at once)
# and half a year ahead, at most this many events.
FEED_PAST = timedelta(days=31)
FEED_FUTURE = timedelta(days=183)
FEED_LIMIT = 3000


def feed_of(db: Session, user: User) -> CalendarFeed | None:
    return db.exec(select(CalendarFeed).where(CalendarFeed.user_id == user.id)).first()


def create_feed(db: Session, user: User, *, query: str, now: datetime) -> str:
    """Make the user a new feed address and return its token, which is stored only as a hash; the
    old address stops working at once."""
    for attempt in range(2):
        token = secrets.new_token()
        db.exec(delete(CalendarFeed).where(col(CalendarFeed.user_id) == user.id))
        db.add(
            CalendarFeed(
                token_hash=secrets.token_hash(token),
                user_id=user.id,
                query=query[:1000],
                created_at=now,
            )
        )
        try:
            db.commit()
            return token
        except IntegrityError:
            # Another request made a feed for the same user at the same moment; replace that one.
            db.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")


def revoke_feed(db: Session, user: User) -> None:
    db.exec(delete(CalendarFeed).where(col(CalendarFeed.user_id) == user.id))
    db.commit()


def feed_by_token(db: Session, token: str) -> tuple[CalendarFeed, User] | None:
    """The feed and its (active) user for a token from an address, or None."""
    if not token or len(token) > 100:
        return None
    row = db.exec(
        select(CalendarFeed, User)
        .join(User, col(User.id) == col(CalendarFeed.user_id))
        .where(CalendarFeed.token_hash == secrets.token_hash(token))
    ).first()
    if row is None or not row[1].is_active:
        return None
    return row[0], row[1]


def shows_only_bookings(viewer: User | None, show: str | None, *, default: str) -> bool:
    """Whether a teacher's calendar shows only the school's bookings: `show` is "ours" or "all"
    as chosen (the page's toggle, the feed's choice), else `default` ("all" on the page, where a
    teacher looks for dates; "ours" for the feed, which a calendar program would otherwise fill
    with every open date in the region). Others have no bookings of their own to show."""
    if viewer is None or viewer.role != Role.teacher:
        return False
    return (show if show in ("ours", "all") else default) == "ours"


def feed_calendar(
    db: Session, user: User, filters: CatalogueFilters, *, base_url: str, now: datetime, only_booked: bool = False
) -> bytes:
    """The user's calendar as an RFC 5545 file, in the user's language (`only_booked`: a teacher's
    school's bookings alone). A booked date's event says how sure the booking is (TENTATIVE until
    it is approved), as the booking's own calendar file does."""
    with language(user.language):
        name = _("STEM portal") + f": {user.name}"
    if user.role == Role.mentor:  # a mentor's calendar is their shifts
        rows = [(session, offer) for _shift, session, offer in my_shifts(db, user) if session.ends_at > now - FEED_PAST]
        return sessions_calendar(name, rows, base_url=base_url, now=now)
    entries = calendar_entries(
        db, user, now - FEED_PAST, now + FEED_FUTURE, filters=filters, now=now, limit=FEED_LIMIT, only_booked=only_booked
    )
    # A school's bookings will need events of their own (class, pupils); sessions_calendar makes
    # session events only, so booked entries are shown as their session, with the booking's status.
    statuses = {e.session.id: event_status_of(e.booking.status) for e in entries if e.booking is not None}
    return sessions_calendar(
        name, [(e.session, e.offer) for e in entries], base_url=base_url, now=now, statuses=statuses
    )
