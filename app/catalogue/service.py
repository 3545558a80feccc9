"""Rules of the catalogue: who publishes what, which dates are open, and how teachers find offers.

Plain functions that take the database session, the acting user and `now`; nothing here knows HTTP.
"""

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from math import cos, radians
from typing import Any

import holidays
from dateutil.rrule import WEEKLY, rrule
from sqlalchemy import and_, delete, exists, func, or_
from sqlmodel import Session, col, select

from app.accounts.models import Organisation, Role, User
from app.bookings import limits
from app.bookings.models import Booking
from app.bookings.notices import tell_teacher
from app.bookings.service import (
    ACTIVE,
    cancel_session_bookings,
    class_clash,
    held,
    holds_seats,
    lock_in_id_order,
    lock_session,
    promote_waiting_list,
    set_status,
)
from app.calendar.bounds import check_planned_day, check_planned_moment
from app.catalogue.models import (
    AvailabilityWindow,
    Offer,
    OfferFormat,
    OfferPicture,
    OfferResource,
    OfferSession,
    OfferStatus,
    OfferSubject,
    OfferTheme,
    OfferTravelArea,
    OfferType,
    Resource,
    SchoolHoliday,
    SessionResource,
    Subject,
    Theme,
)
from app.catalogue.schemas import (
    MAX_RECURRING_SESSIONS,
    OfferCreate,
    OfferIn,
    RecurrenceIn,
    SessionIn,
)
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.geography import MUNICIPALITIES
from app.i18n import TIMEZONE, _, language, local_datetime, ngettext
from app.mentors.shifts import end_on_cancelled_date, signed_counts

# --- blackout dates ----------------------------------------------------------------------------


@cache
def _public_holidays(year: int) -> dict[date, str]:
    return dict(holidays.Denmark(years=year, language="da"))


def blackout_reason(db: Session, day: date, municipality: str) -> str | None:
    """Why a day is closed for new sessions in a municipality: a public or school holiday."""
    if name := _public_holidays(day.year).get(day):
        return name
    holiday = db.exec(
        select(SchoolHoliday.name).where(
            SchoolHoliday.starts_on <= day,
            SchoolHoliday.ends_on >= day,
            or_(
                col(SchoolHoliday.municipality).is_(None),
                SchoolHoliday.municipality == municipality,
            ),
        )
    ).first()
    return holiday


def closed_day(
    db: Session, municipality: str, starts_at: datetime, ends_at: datetime
) -> tuple[date, str] | None:
    """The first Danish day from the start to the end of a date that is closed (a public or school
    holiday), with the reason: a company week is closed if any of its days is."""
    first = starts_at.astimezone(TIMEZONE).date()
    # A date that ends at midnight does not touch the next day.
    last = max(first, (ends_at.astimezone(TIMEZONE) - timedelta(microseconds=1)).date())
    school_holidays = db.exec(
        select(SchoolHoliday)
        .where(
            SchoolHoliday.starts_on <= last,
            SchoolHoliday.ends_on >= first,
            or_(
                col(SchoolHoliday.municipality).is_(None),
                SchoolHoliday.municipality == municipality,
            ),
        )
        .order_by(col(SchoolHoliday.starts_on), col(SchoolHoliday.id))
    ).all()
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        if name := _public_holidays(day.year).get(day):
            return day, name
        for holiday in school_holidays:
            if holiday.starts_on <= day <= holiday.ends_on:
                return day, holiday.name
    return None


# --- offers ------------------------------------------------------------------------------------


def _provider_organisation(db: Session, actor: User) -> Organisation:
    if actor.role != Role.provider or actor.organisation_id is None:
        raise Forbidden(_("Only providers can publish offers."))
    organisation = db.get(Organisation, actor.organisation_id)
    assert organisation is not None
    return organisation


def own_offer(db: Session, actor: User, offer_id: int) -> Offer:
    """An offer of the actor's own provider organisation; any other is reported missing."""
    offer = db.get(Offer, offer_id)
    if offer is None or actor.role != Role.provider or offer.provider_id != actor.organisation_id:
        raise NotFound(_("No such offer."))
    return offer


def visible_offer(db: Session, viewer: User | None, offer_id: int) -> Offer:
    """A published offer for everyone; a draft only for its provider and the coordinators."""
    offer = db.get(Offer, offer_id)
    if offer is None:
        raise NotFound(_("No such offer."))
    if offer.status != OfferStatus.published:
        own = (
            viewer is not None
            and viewer.role == Role.provider
            and viewer.organisation_id == offer.provider_id
        )
        if not (own or (viewer is not None and viewer.is_staff)):
            raise NotFound(_("No such offer."))
    return offer


def _write_offer(
    db: Session, offer: Offer, data: OfferIn, provider: Organisation, now: datetime
) -> None:
    values = data.model_dump(
        exclude={"themes", "subjects", "status", "municipality", "contact_email"}
    )
    offer.sqlmodel_update(values)
    offer.municipality = data.municipality or provider.municipality
    offer.address = data.address or provider.address
    offer.contact_email = str(data.contact_email or "")
    offer.latitude, offer.longitude = MUNICIPALITIES[offer.municipality]
    offer.updated_at = now
    db.add(offer)
    db.flush()
    db.exec(delete(OfferTheme).where(col(OfferTheme.offer_id) == offer.id))
    db.exec(delete(OfferSubject).where(col(OfferSubject.offer_id) == offer.id))
    db.add_all([OfferTheme(offer_id=offer.id, theme=t) for t in data.themes])
    db.add_all([OfferSubject(offer_id=offer.id, subject=s) for s in data.subjects])


def create_offer(db: Session, actor: User, data: OfferCreate, *, now: datetime) -> Offer:
    provider = _provider_organisation(db, actor)
    offer = Offer(
        provider_id=provider.id,
        type=data.type,
        title=data.title,
        grade_min=data.grade_min,
        grade_max=data.grade_max,
        municipality=provider.municipality,
        created_at=now,
    )
    _write_offer(db, offer, data, provider, now)
    if data.status == OfferStatus.published:
        offer.status, offer.published_at = OfferStatus.published, now
    db.commit()
    db.refresh(offer)
    return offer


def update_offer(db: Session, actor: User, offer_id: int, data: OfferIn, *, now: datetime) -> Offer:
    offer = own_offer(db, actor, offer_id)
    if offer.status == OfferStatus.archived:
        raise Conflict(_("An archived offer cannot be changed."))
    if (
        data.type != offer.type
        and db.exec(select(OfferSession.id).where(OfferSession.offer_id == offer.id)).first()
    ):
        raise InvalidInput(_("The offer has dates, so its type cannot change."), field="type")
    _write_offer(db, offer, data, _provider_organisation(db, actor), now)
    db.commit()
    db.refresh(offer)
    return offer


ALLOWED_STATUS_CHANGES = {
    OfferStatus.draft: {OfferStatus.published, OfferStatus.archived},
    OfferStatus.published: {OfferStatus.unpublished, OfferStatus.archived},
    OfferStatus.unpublished: {OfferStatus.published, OfferStatus.archived},
    OfferStatus.archived: set(),
}


def patch_offer(db: Session, actor: User, offer_id: int, changes: Mapping[str, Any], *, now: datetime) -> Offer:
    """Change only the fields in `changes`; the rest keep their value. The result must be a valid
    offer, as for `update_offer` (pydantic's ValidationError, each error at its field, if not)."""
    offer = own_offer(db, actor, offer_id)
    themes, subjects = themes_and_subjects(db, [offer.id])
    stored = {
        **offer.model_dump(include=set(OfferIn.model_fields)),
        "themes": themes[offer.id],
        "subjects": subjects[offer.id],
        "contact_email": offer.contact_email or None,
    }
    return update_offer(db, actor, offer_id, OfferIn.model_validate({**stored, **changes}), now=now)


def change_status(
    db: Session, actor: User, offer_id: int, status: OfferStatus, *, now: datetime
) -> Offer:
    """Publish, unpublish or archive; a newly published offer is returned for notifying searches."""
    offer = own_offer(db, actor, offer_id)
    if status not in ALLOWED_STATUS_CHANGES[offer.status]:
        raise Conflict(_("That change is not possible for an offer in this state."))
    offer.status = status
    if status == OfferStatus.published and offer.published_at is None:
        offer.published_at = now
    offer.updated_at = now
    db.add(offer)
    db.commit()
    db.refresh(offer)
    return offer


def provider_offers(db: Session, actor: User) -> Sequence[Offer]:
    _provider_organisation(db, actor)
    return db.exec(
        select(Offer)
        .where(Offer.provider_id == actor.organisation_id, Offer.status != OfferStatus.archived)
        .order_by(col(Offer.updated_at).desc())
    ).all()


def themes_and_subjects(
    db: Session, offer_ids: Sequence[int]
) -> tuple[dict[int, list[Theme]], dict[int, list[Subject]]]:
    themes: dict[int, list[Theme]] = defaultdict(list)
    subjects: dict[int, list[Subject]] = defaultdict(list)
    if offer_ids:
        for offer_id, theme in db.exec(
            select(OfferTheme.offer_id, OfferTheme.theme).where(
                col(OfferTheme.offer_id).in_(offer_ids)
            )
        ):
            themes[offer_id].append(theme)
        for offer_id, subject in db.exec(
            select(OfferSubject.offer_id, OfferSubject.subject).where(
                col(OfferSubject.offer_id).in_(offer_ids)
            )
        ):
            subjects[offer_id].append(subject)
    return themes, subjects


def set_picture(
    db: Session, actor: User, offer_id: int, *, content: bytes, content_type: str, alt_text: str
) -> None:
    """Store a checked picture (the pages check size and type) and give it a new address."""
    offer = own_offer(db, actor, offer_id)
    picture = db.get(OfferPicture, offer.id) or OfferPicture(
        offer_id=offer.id, content=b"", content_type=""
    )
    picture.content, picture.content_type, picture.alt_text = content, content_type, alt_text
    offer.picture_version += 1
    db.add_all([picture, offer])
    db.commit()


def duplicate_offer(db: Session, actor: User, offer_id: int, *, now: datetime) -> Offer:
    """A new draft of the provider's own offer with all its settings, themes, subjects, picture and
    (for an expert) availability, titled "Copy of …" in the offer's language; never its dates,
    bookings or allocation rounds, which belong to the original."""
    offer = own_offer(db, actor, offer_id)
    with language(offer.language):
        title = _("Copy of %(title)s") % {"title": offer.title}
    settings = offer.model_dump(exclude={"id", "status", "title", "created_at", "updated_at", "published_at"})
    copy = Offer(
        **settings,
        title=title[:200],  # the column's length: a long title loses its end, not the copy
        status=OfferStatus.draft,
        created_at=now,
        updated_at=now,
    )
    db.add(copy)
    db.flush()
    themes, subjects = themes_and_subjects(db, [offer.id])
    db.add_all([OfferTheme(offer_id=copy.id, theme=t) for t in themes[offer.id]])
    db.add_all([OfferSubject(offer_id=copy.id, subject=s) for s in subjects[offer.id]])
    if picture := db.get(OfferPicture, offer.id):
        db.add(
            OfferPicture(
                offer_id=copy.id,
                content=picture.content,
                content_type=picture.content_type,
                alt_text=picture.alt_text,
            )
        )
    windows = db.exec(select(AvailabilityWindow).where(AvailabilityWindow.offer_id == offer.id)).all()
    db.add_all(
        [AvailabilityWindow(offer_id=copy.id, weekday=w.weekday, starts=w.starts, ends=w.ends) for w in windows]
    )
    areas = db.exec(select(OfferTravelArea.municipality).where(OfferTravelArea.offer_id == offer.id)).all()
    db.add_all([OfferTravelArea(offer_id=copy.id, municipality=m) for m in areas])
    used = db.exec(select(OfferResource.resource_id).where(OfferResource.offer_id == offer.id)).all()
    db.add_all([OfferResource(offer_id=copy.id, resource_id=r) for r in used])
    db.commit()
    db.refresh(copy)
    return copy


# --- sessions ----------------------------------------------------------------------------------


def _session_values(offer: Offer, data: SessionIn) -> dict[str, Any]:
    """The date's columns from the form: a mentoring date needs one mentor unless the provider
    says otherwise; other dates take no mentors."""
    values = data.model_dump(exclude={"open_on_holiday"})
    if offer.type != OfferType.mentoring:
        values["mentors_min"] = values["mentors_max"] = 0
        return values
    least = 1 if data.mentors_min is None else data.mentors_min
    most = max(least, 1) if data.mentors_max is None else data.mentors_max
    if most < least or most == 0:
        raise InvalidInput(
            _("The most mentors must be at least one, and no fewer than the least."), field="mentors_max"
        )
    values["mentors_min"], values["mentors_max"] = least, most
    return values


def _check_session(db: Session, offer: Offer, data: SessionIn, now: datetime) -> None:
    if offer.on_request:
        raise InvalidInput(
            _("A book-an-expert offer is booked on request and has no fixed dates."),
            field="starts_at",
        )
    if data.starts_at <= now:
        raise InvalidInput(_("The session must start in the future."), field="starts_at")
    check_planned_moment(data.starts_at, now=now, field="starts_at")
    if data.ends_at <= data.starts_at:
        raise InvalidInput(_("The session must end after it starts."), field="ends_at")
    if data.ends_at - data.starts_at > timedelta(days=31):
        raise InvalidInput(_("A session can last at most a month."), field="ends_at")
    if data.booking_deadline and not (now < data.booking_deadline <= data.starts_at):
        raise InvalidInput(
            _("The booking deadline must be between now and the start."), field="booking_deadline"
        )
    if offer.min_pupils and data.capacity_pupils < offer.min_pupils:
        raise InvalidInput(
            _("The capacity is smaller than the offer's minimum group."), field="capacity_pupils"
        )
    if not data.open_on_holiday and (
        closed := closed_day(db, offer.municipality, data.starts_at, data.ends_at)
    ):
        day, reason = closed
        raise InvalidInput(
            _(
                "%(day)s is closed (%(reason)s). Choose another date, or open the holiday on purpose."
            )
            % {"day": day.strftime("%d.%m.%Y"), "reason": reason},
            field="starts_at",
        )


def add_session(
    db: Session, actor: User, offer_id: int, data: SessionIn, *, now: datetime
) -> OfferSession:
    offer = own_offer(db, actor, offer_id)
    _check_session(db, offer, data, now)
    session = OfferSession(offer_id=offer.id, **_session_values(offer, data), created_at=now)
    db.add(session)
    db.commit()
    db.refresh(session)
    return session


def recurring_dates(data: RecurrenceIn) -> list[tuple[datetime, datetime]]:
    """The (start, end) of every session the rule makes, in Danish local time: each from the start
    time on its first day to the end time on its last (`days` later, less one), and all of it within
    the period (a company week: Mondays, five days, 8-15, from Monday 8 to Friday 15)."""
    if data.last_date < data.first_date:
        raise InvalidInput(_("The last date must be after the first."), field="last_date")
    if data.days == 1 and data.ends <= data.starts:
        raise InvalidInput(_("The session must end after it starts."), field="ends")
    to_last_day = timedelta(days=data.days - 1)
    if data.first_date + to_last_day > data.last_date:
        raise InvalidInput(
            ngettext(
                "Each date lasts %(num)d day, so the period must be at least that long.",
                "Each date lasts %(num)d days, so the period must be at least that long.",
                data.days,
            )
            % {"num": data.days},
            field="last_date",
        )
    rule = rrule(
        WEEKLY,
        interval=data.every_weeks,
        byweekday=sorted(set(data.weekdays)),
        dtstart=datetime.combine(data.first_date, data.starts),
        until=datetime.combine(data.last_date - to_last_day, data.starts),
        count=None,
    )
    dates: list[tuple[datetime, datetime]] = []
    for start in rule:
        if len(dates) > MAX_RECURRING_SESSIONS:
            raise InvalidInput(
                _("The rule makes more than %(count)d dates. Choose a shorter period.")
                % {"count": MAX_RECURRING_SESSIONS},
                field="last_date",
            )
        local_start = start.replace(tzinfo=TIMEZONE)
        local_end = datetime.combine(start.date() + to_last_day, data.ends, tzinfo=TIMEZONE)
        if dates and local_start < dates[-1][1]:
            # Two weekdays closer together than a date is long: the dates would run into each other.
            raise InvalidInput(
                ngettext(
                    "The dates would overlap: each lasts %(num)d day. Choose fewer days or fewer weekdays.",
                    "The dates would overlap: each lasts %(num)d days. Choose fewer days or fewer weekdays.",
                    data.days,
                )
                % {"num": data.days},
                field="days",
            )
        dates.append((local_start, local_end))
    return dates


# Booking closes this many days before a date unless the provider says otherwise, whether the date
# is added by hand or made by a weekly rule (the pages fill it in for both).
DEFAULT_DEADLINE_DAYS = 7


def deadline_before(starts_at: datetime, days: int, *, now: datetime) -> datetime | None:
    """Booking closes `days` days before the start, at the same Danish wall-clock time; no deadline
    when that moment has already passed, so a date soon can be booked until it starts."""
    deadline = starts_at.astimezone(TIMEZONE) - timedelta(days=days)
    return deadline if deadline > now else None


def add_recurring_sessions(
    db: Session, actor: User, offer_id: int, data: RecurrenceIn, *, now: datetime
) -> tuple[list[OfferSession], list[tuple[date, str]]]:
    """Make every date of the rule, skipping holidays and past dates; all or nothing.

    Returns the sessions made and the dates skipped with the reason."""
    offer = own_offer(db, actor, offer_id)
    check_planned_day(data.first_date, now=now, field="first_date")
    check_planned_day(data.last_date, now=now, field="last_date")
    series = str(uuid.uuid4())
    made, skipped = [], []
    for starts_at, ends_at in recurring_dates(data):
        day = starts_at.date()
        if starts_at <= now:
            skipped.append((day, _("in the past")))
            continue
        if closed := closed_day(db, offer.municipality, starts_at, ends_at):
            skipped.append((day, closed[1]))
            continue
        session_in = SessionIn(
            starts_at=starts_at,
            ends_at=ends_at,
            capacity_pupils=data.capacity_pupils,
            capacity_classes=data.capacity_classes,
            booking_deadline=None
            if data.deadline_days is None
            else deadline_before(starts_at, data.deadline_days, now=now),
            mentors_min=data.mentors_min,
            mentors_max=data.mentors_max,
        )
        _check_session(db, offer, session_in, now)
        made.append(OfferSession(offer_id=offer.id, series=series, created_at=now, **_session_values(offer, session_in)))
    if not made:
        raise InvalidInput(
            _("The rule makes no dates that are open. Check the weekdays and the period."),
            field="weekdays",
        )
    db.add_all(made)
    db.commit()
    for session in made:
        db.refresh(session)
    return made, skipped


def why_skipped(db: Session, offer: Offer, first_day: date, days: int, *, now: datetime) -> str | None:
    """Why a weekly rule skipped the date of `days` days from `first_day`, as it said when it ran
    (the page shows it again after the redirect); None if nothing closes it now."""
    if first_day <= now.astimezone(TIMEZONE).date():
        return _("in the past")
    starts_at = datetime.combine(first_day, datetime.min.time(), TIMEZONE)
    closed = closed_day(db, offer.municipality, starts_at, starts_at + timedelta(days=days))
    return closed[1] if closed else None


def update_session(
    db: Session, actor: User, session_id: int, data: SessionIn, *, now: datetime
) -> OfferSession:
    """Change one date's time or capacity; a date made by a weekly rule stays in its series."""
    session, offer = own_session(db, actor, session_id)
    if session.cancelled_at is not None:
        raise Conflict(_("The date is cancelled."))
    _check_session(db, offer, data, now)
    # Under the date's lock and its pools', like a booking (the same order: a booking of another
    # date of a pool waits here rather than in a circle): places the change adds go to the
    # waiting list first.
    session = lock_session(db, session.id)
    limits.lock_pools(db, session.id)
    moved = (data.starts_at, data.ends_at) != (session.starts_at, session.ends_at)
    if moved:
        _check_new_time_is_free(db, session, data.starts_at, data.ends_at)
    _check_capacity_covers_bookings(db, session, data, now=now)
    values = _session_values(offer, data)
    if values["mentors_max"] < signed_counts(db, [session.id]).get(session.id, 0):
        raise Conflict(
            _("More mentors have signed up than that. Take some off the date first."), field="mentors_max"
        )
    session.sqlmodel_update(values)
    db.add(session)
    if moved:
        _tell_of_the_new_time(db, actor, session, now=now)
    promote_waiting_list(db, session, offer, now=now)
    db.commit()
    db.refresh(session)
    return session


def _tell_of_the_new_time(db: Session, actor: User, session: OfferSession, *, now: datetime) -> None:
    """Every class booked (or waiting) for a moved date: its history says so, and its teacher is
    told, with the calendar file at the new time (the change raises its SEQUENCE, so calendar
    programs move the event)."""
    booked = db.exec(select(Booking).where(Booking.session_id == session.id, col(Booking.status).in_(ACTIVE))).all()
    for booking in booked:
        set_status(db, booking, actor, booking.status, now, "the provider moved the date")
        tell_teacher(db, booking, "moved", now=now)


def _check_new_time_is_free(db: Session, session: OfferSession, starts_at: datetime, ends_at: datetime) -> None:
    """A date moved to a new time keeps the rules that attaching a resource and booking a class
    keep: none of its resources is in another date then, and no class booked in it (or waiting)
    is in another activity then.

    The caller holds the date's lock and its pools'; the date's resources, then the schools of its
    classes, are locked next, the order attaching a resource (date, resource) and a booking (date,
    pools, school) keep, so that neither can be given to another date at the new time while we
    look."""
    resource_ids = select(SessionResource.resource_id).where(SessionResource.session_id == session.id)
    lock_in_id_order(db, Resource, resource_ids)
    if clash := resource_clash(db, resource_ids, starts_at, ends_at, except_session_id=session.id):
        raise resource_busy(*clash, field="starts_at")
    booked_here = and_(col(Booking.session_id) == session.id, col(Booking.status).in_(ACTIVE))
    lock_in_id_order(db, Organisation, select(Booking.school_id).where(booked_here))
    busy_class = db.exec(
        select(Booking.class_name, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(Booking.school_id))
        .where(
            booked_here,
            class_clash(Booking.school_id, func.lower(Booking.class_name), starts_at, ends_at, except_session_id=session.id),
        )
        .order_by(col(Organisation.name), col(Booking.class_name))
    ).first()
    if busy_class is not None:
        class_name, school = busy_class
        # Not which activity: it may be another provider's.
        raise Conflict(
            _("Class %(name)s from %(school)s is already booked for another activity at the new time.")
            % {"name": class_name, "school": school},
            field="starts_at",
        )


def resource_clash(
    db: Session,
    resource_ids,
    starts_at: datetime,
    ends_at: datetime,
    *,
    except_session_id: int | None = None,
    happens=None,
) -> tuple[Resource, OfferSession, str] | None:
    """The first of the resources (`resource_ids`: ids, or a SELECT of them) that another date
    uses in the time from `starts_at` to `ends_at`, with that date and the title of its offer;
    None when they are all free then. A date counts unless cancelled, or unless `happens` (an SQL
    condition on the date and its offer: the expert's visits, app.bookings.expert) says otherwise."""
    others = [] if except_session_id is None else [OfferSession.id != except_session_id]
    return db.exec(
        select(Resource, OfferSession, Offer.title)
        .join(SessionResource, col(SessionResource.resource_id) == col(Resource.id))
        .join(OfferSession, col(OfferSession.id) == col(SessionResource.session_id))
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .where(
            col(Resource.id).in_(resource_ids),
            *others,
            col(OfferSession.cancelled_at).is_(None) if happens is None else happens,
            OfferSession.starts_at < ends_at,
            OfferSession.ends_at > starts_at,
        )
        .order_by(col(Resource.name), col(OfferSession.starts_at))
    ).first()


def resource_busy(resource: Resource, other: OfferSession, title: str, *, field: str) -> Conflict:
    return Conflict(
        _("%(resource)s is already busy in “%(offer)s” from %(starts)s to %(ends)s.")
        % {
            "resource": resource.name,
            "offer": title,
            "starts": local_datetime(other.starts_at, "short"),
            "ends": local_datetime(other.ends_at, "short"),
        },
        field=field,
    )


def _check_capacity_covers_bookings(db: Session, session: OfferSession, data: SessionIn, *, now: datetime) -> None:
    """A date's capacity never drops below the places its bookings hold: nobody loses a place
    they were given (the provider cancels bookings, or the date, first)."""
    pupils, classes = held(db, [session.id], now=now).get(session.id, (0, 0))
    if data.capacity_pupils < pupils:
        raise InvalidInput(
            _("%(num)d pupils already have a place on this date; the capacity cannot be lower.") % {"num": pupils},
            field="capacity_pupils",
        )
    if data.capacity_classes is not None and data.capacity_classes < classes:
        raise InvalidInput(
            _("%(num)d classes already have a place on this date; the capacity cannot be lower.") % {"num": classes},
            field="capacity_classes",
        )


def own_session(db: Session, actor: User, session_id: int) -> tuple[OfferSession, Offer]:
    session = db.get(OfferSession, session_id)
    if session is None:
        raise NotFound(_("No such session."))
    offer = own_offer(db, actor, session.offer_id)
    return session, offer


def cancel_session(db: Session, actor: User, session_id: int, *, now: datetime) -> list[Booking]:
    """Cancel one date and every booking in it; returns the bookings, whose teachers must be told."""
    own_session(db, actor, session_id)
    cancelled = cancel_session_bookings(db, actor, session_id, now=now)
    end_on_cancelled_date(db, session_id, now=now)
    return cancelled


def visible_session(db: Session, viewer: User | None, session_id: int) -> OfferSession:
    session = db.get(OfferSession, session_id)
    if session is None:
        raise NotFound(_("No such session."))
    visible_offer(db, viewer, session.offer_id)
    return session


def sessions_of(
    db: Session, offer_id: int, *, now: datetime, include_past: bool = False
) -> Sequence[OfferSession]:
    query = select(OfferSession).where(OfferSession.offer_id == offer_id)
    if not include_past:
        query = query.where(OfferSession.ends_at > now)
    return db.exec(query.order_by(col(OfferSession.starts_at))).all()


# --- finding offers ----------------------------------------------------------------------------


def school_origin(db: Session, user: User | None) -> tuple[float, float] | None:
    """Where distances are measured from for this user: a teacher's school."""
    if user is None or user.role != Role.teacher or user.organisation_id is None:
        return None
    school = db.get(Organisation, user.organisation_id)
    return MUNICIPALITIES.get(school.municipality) if school else None


@dataclass
class CatalogueFilters:
    q: str | None = None
    type: OfferType | None = None
    theme: Theme | None = None
    subject: Subject | None = None
    grade: int | None = None
    municipality: str | None = None
    format: OfferFormat | None = None
    long: bool | None = None
    girls_only: bool = False
    free_places: bool = False
    date_from: date | None = None
    date_to: date | None = None
    # Distance is measured from here (a teacher's school), when given.
    origin: tuple[float, float] | None = None
    max_km: float | None = None
    sort: str = "soonest"
    # Only this offer (to ask whether one offer answers a saved search).
    offer_id: int | None = None


@dataclass
class OfferHit:
    offer: Offer
    provider_name: str
    next_sessions: list[OfferSession] = field(default_factory=list)
    distance_km: float | None = None
    # Free pupil places of each of the next sessions, counted from their bookings.
    free_pupils: dict[int, int] = field(default_factory=dict)


def _squared_km(origin: tuple[float, float]):
    """Squared distance in km from origin, as SQL arithmetic both databases run on an index-free
    scan: an equirectangular projection, well within a kilometre across the region."""
    lat0, lon0 = origin
    ky, kx = 111.2, 111.2 * cos(radians(lat0))
    dy = (col(Offer.latitude) - lat0) * ky
    dx = (col(Offer.longitude) - lon0) * kx
    return dy * dy + dx * dx


def offer_conditions(filters: CatalogueFilters) -> list:
    """The filters that concern the offer itself (not its dates), as SQL conditions on Offer; the
    catalogue and the calendar share them."""
    conditions = []
    if filters.q:
        for word in filters.q.replace("%", "").replace("_", "").split()[:8]:
            pattern = f"%{word}%"
            conditions.append(
                or_(col(Offer.title).ilike(pattern), col(Offer.summary).ilike(pattern))
            )
    if filters.type:
        conditions.append(Offer.type == filters.type)
    # IN rather than a correlated EXISTS: SQLite reads the theme's offers once, not once per offer.
    if filters.theme:
        themed = select(OfferTheme.offer_id).where(OfferTheme.theme == filters.theme)
        conditions.append(col(Offer.id).in_(themed))
    if filters.subject:
        subjected = select(OfferSubject.offer_id).where(OfferSubject.subject == filters.subject)
        conditions.append(col(Offer.id).in_(subjected))
    if filters.grade is not None:
        conditions.append(and_(Offer.grade_min <= filters.grade, Offer.grade_max >= filters.grade))
    if filters.municipality:
        conditions.append(Offer.municipality == filters.municipality)
    if filters.format:
        conditions.append(Offer.format == filters.format)
    if filters.long is not None:
        conditions.append(Offer.is_long == filters.long)
    if filters.girls_only:
        conditions.append(col(Offer.girls_only).is_(True))
    if filters.origin and filters.max_km:
        conditions.append(_squared_km(filters.origin) <= filters.max_km**2)
    return conditions


def search_offers(
    db: Session,
    filters: CatalogueFilters,
    *,
    now: datetime,
    limit: int = 20,
    offset: int = 0,
    sessions_per_offer: int = 3,
) -> tuple[list[OfferHit], int]:
    """Published offers matching the filters, soonest next date (or nearest) first, with the total."""
    session_conditions = [
        OfferSession.offer_id == Offer.id,
        col(OfferSession.cancelled_at).is_(None),
        OfferSession.starts_at > now,
    ]
    if filters.date_from:
        session_conditions.append(
            OfferSession.starts_at
            >= datetime.combine(filters.date_from, datetime.min.time(), TIMEZONE)
        )
    if filters.date_to:
        session_conditions.append(
            OfferSession.starts_at
            < datetime.combine(filters.date_to + timedelta(days=1), datetime.min.time(), TIMEZONE)
        )
    # The period alone, without the free-places test: cheap to read in start order.
    period_conditions = session_conditions[1:]
    if filters.free_places:
        held_now = (
            select(func.coalesce(func.sum(Booking.pupils), 0))
            .where(Booking.session_id == OfferSession.id, holds_seats(now))
            .correlate(OfferSession)
            .scalar_subquery()
        )
        session_conditions.append(OfferSession.capacity_pupils > held_now)
    next_start = (
        select(func.min(OfferSession.starts_at))
        .where(*session_conditions)
        .correlate(Offer)
        .scalar_subquery()
    )

    conditions = [Offer.status == OfferStatus.published, *offer_conditions(filters)]
    if filters.offer_id is not None:
        conditions.append(Offer.id == filters.offer_id)
    # Dates and free places: on-request offers have no dates but can be asked for on any open
    # day. (An offer's own session in the window satisfies this, so the session-first order below
    # leaves it out.)
    dated = []
    if filters.free_places or filters.date_from or filters.date_to:
        dated = [or_(Offer.type == OfferType.expert, exists().where(*session_conditions))]
    distance = _squared_km(filters.origin) if filters.origin else None
    nearest = filters.sort == "nearest" and distance is not None

    total = db.exec(select(func.count()).select_from(Offer).where(*conditions, *dated)).one()
    ids = None
    if not nearest and total > SOONEST_FIRST_MIN_TOTAL:
        ids = _soonest_from_sessions(
            db, conditions, period_conditions, session_conditions[1:], offset + limit
        )
    if ids is None:
        query = select(Offer.id).where(*conditions, *dated)
        if nearest:
            query = query.order_by(distance, col(Offer.id))
        else:
            # NULLS LAST, not "IS NULL" first: the subquery then runs once per offer, not twice.
            query = query.order_by(next_start.asc().nulls_last(), col(Offer.id))
        ids = db.exec(query.limit(offset + limit)).all()
    ids = list(ids[offset:])
    # Whole rows for the page only: sorting thousands of wide rows to keep twenty was slow.
    rows = (
        db.exec(
            select(Offer, Organisation.name)
            .join(Organisation, col(Organisation.id) == col(Offer.provider_id))
            .where(col(Offer.id).in_(ids))
        ).all()
        if ids
        else []
    )
    by_id = {offer.id: (offer, name) for offer, name in rows}

    hits = [OfferHit(offer=by_id[i][0], provider_name=by_id[i][1]) for i in ids]
    if filters.origin:
        for hit in hits:
            if hit.offer.latitude is not None:
                dy = (hit.offer.latitude - filters.origin[0]) * 111.2
                dx = (
                    (hit.offer.longitude - filters.origin[1])
                    * 111.2
                    * cos(radians(filters.origin[0]))
                )
                hit.distance_km = round((dx * dx + dy * dy) ** 0.5, 1)
    _attach_next_sessions(db, hits, session_conditions[1:], sessions_per_offer, now=now)
    return hits, total


# How many upcoming sessions to read in start order to find the soonest offers, and the fewest
# matching offers for which that is worth trying (fewer are cheaper to order one by one).
SOONEST_WINDOW = 2000
SOONEST_FIRST_MIN_TOTAL = 500


def _soonest_from_sessions(
    db: Session, conditions: list, period_conditions: list, session_conditions: list, wanted: int
) -> list[int] | None:
    """The first `wanted` offer ids in (next start, id) order, read off the next SOONEST_WINDOW
    upcoming sessions in the period instead of working out every matching offer's next start;
    None when the window holds too few matching offers to be sure of the order."""
    window_end = db.exec(
        select(OfferSession.starts_at)
        .where(*period_conditions)
        .order_by(col(OfferSession.starts_at))
        .offset(SOONEST_WINDOW - 1)
        .limit(1)
    ).first()
    # Every session that starts before the window ends is read: an offer with a matching one has
    # its true next start there, and every other offer starts later.
    matches = exists().where(col(Offer.id) == col(OfferSession.offer_id), *conditions)
    query = (
        select(OfferSession.offer_id)
        .where(*session_conditions, matches)
        .group_by(col(OfferSession.offer_id))
        .order_by(func.min(OfferSession.starts_at), col(OfferSession.offer_id))
        .limit(wanted)
    )
    if window_end is not None:
        query = query.where(OfferSession.starts_at < window_end)
    ids = db.exec(query).all()
    return list(ids) if len(ids) == wanted else None


def _attach_next_sessions(db: Session, hits: list[OfferHit], conditions, per_offer: int, *, now: datetime) -> None:
    if not hits or per_offer < 1:
        return
    by_id = {hit.offer.id: hit for hit in hits}
    rank = (
        func.row_number()
        .over(partition_by=OfferSession.offer_id, order_by=OfferSession.starts_at)
        .label("rank")
    )
    ranked = (
        select(OfferSession.id, rank)
        .where(col(OfferSession.offer_id).in_(by_id), *conditions)
        .subquery()
    )
    sessions = db.exec(
        select(OfferSession)
        .join(ranked, ranked.c.id == OfferSession.id)
        .where(ranked.c.rank <= per_offer)
        .order_by(col(OfferSession.starts_at))
    ).all()
    held_now = held(db, [session.id for session in sessions], now=now)
    for session in sessions:
        hit = by_id[session.offer_id]
        hit.next_sessions.append(session)
        hit.free_pupils[session.id] = max(0, session.capacity_pupils - held_now.get(session.id, (0, 0))[0])
