"""Limits beyond a session's own capacity: capacity pools shared by several sessions, and
coordinators' per-school caps per offer type and school year.

Called by app.bookings.service inside its locked transaction, after the session's lock and before
the school's (the fixed lock order: sessions, then pools by id, then the school). The management
below keeps that order too: attaching dates to a pool locks the dates first, then the pool."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import func, or_
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, delete, select

from app.accounts.models import Organisation, Role, User
from app.bookings.models import Booking, BookingStatus, CapacityPool, CapacityPoolSession, SchoolCap
from app.calendar.bounds import planning_school_years, school_year_of
from app.catalogue.models import Offer, OfferSession, OfferType
from app.config import get_settings
from app.db import begin_write
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.geography import MUNICIPALITIES
from app.i18n import TIMEZONE, _, ngettext
from app.text import check_one_line
from app.web.labels import label

MAX_CAPACITY = 100_000
MAX_CAP = 1000


# --- what the booking service calls, under its locks --------------------------------------------


def _pools_of(session_id: int):
    return select(CapacityPoolSession.pool_id).where(CapacityPoolSession.session_id == session_id)


def smallest_pool(session_id):
    """SQL: the fewest pupils any pool the session is in takes in all (NULL: no such limit)."""
    # A join, not IN (_pools_of(...)): a subquery two levels down would not correlate with the
    # session of the query this one is part of.
    return (
        select(func.min(CapacityPool.capacity_pupils))
        .join(CapacityPoolSession, col(CapacityPoolSession.pool_id) == col(CapacityPool.id))
        .where(CapacityPoolSession.session_id == session_id)
        .scalar_subquery()
    )


def sessions_sharing_pools(session_id: int):
    """SQL: the ids of the sessions in any pool the given session is in (itself included)."""
    return select(CapacityPoolSession.session_id).where(col(CapacityPoolSession.pool_id).in_(_pools_of(session_id)))


def lock_pools(db: Session, session_id: int) -> list[CapacityPool]:
    """Lock the pools the session is in, in id order; returns them."""
    query = (
        select(CapacityPool)
        .where(col(CapacityPool.id).in_(_pools_of(session_id)))
        .order_by(col(CapacityPool.id))
        # A pool read earlier in this session may have been changed since; read it afresh.
        .execution_options(populate_existing=True)
    )
    if not get_settings().booking_locks:  # test only, like the service's own switch
        return list(db.exec(query).all())
    try:
        return list(db.exec(query.with_for_update()).all())
    except OperationalError as error:
        # PostgreSQL's lock timeout (set by the service for this transaction) ran out.
        if "lock" not in str(error).lower():
            raise
        db.rollback()
        from app.bookings.service import Busy

        raise Busy(_("Many are booking right now. Please try again in a moment.")) from None


def lock_pools_of(db: Session, session_ids: Sequence[int]) -> None:
    """Lock every pool any of the sessions is in, in id order (the sessions are locked already)."""
    if session_ids:
        in_pools = select(CapacityPoolSession.pool_id).where(col(CapacityPoolSession.session_id).in_(session_ids))
        db.exec(select(CapacityPool.id).where(col(CapacityPool.id).in_(in_pools)).order_by(col(CapacityPool.id)).with_for_update()).all()


def pool_holdings(db: Session, pool_ids: Sequence[int], *, now: datetime) -> dict[int, tuple[int, int]]:
    """Pupils and classes held now per pool, over all of its sessions."""
    from app.bookings.service import holds_seats  # the service imports this module

    if not pool_ids:
        return {}
    rows = db.exec(
        select(CapacityPoolSession.pool_id, func.sum(Booking.pupils), func.count())
        .join(Booking, col(Booking.session_id) == col(CapacityPoolSession.session_id))
        .where(col(CapacityPoolSession.pool_id).in_(pool_ids), holds_seats(now))
        .group_by(col(CapacityPoolSession.pool_id))
    ).all()
    return {pool_id: (int(pupils or 0), int(classes)) for pool_id, pupils, classes in rows}


def _fits(pool: CapacityPool, held_now: tuple[int, int], pupils: int) -> bool:
    held_pupils, held_classes = held_now
    if pool.capacity_pupils is not None and held_pupils + pupils > pool.capacity_pupils:
        return False
    return pool.capacity_classes is None or held_classes + 1 <= pool.capacity_classes


def pools_fit(db: Session, pools: list[CapacityPool], pupils: int, *, now: datetime) -> bool:
    """One more class of `pupils` fits in every pool (counting what is held now)."""
    if not pools:
        return True
    held_now = pool_holdings(db, [p.id for p in pools], now=now)
    return all(_fits(pool, held_now.get(pool.id, (0, 0)), pupils) for pool in pools)


def pool_room(db: Session, session_id: int, *, now: datetime) -> tuple[int | None, int | None]:
    """The pupils and classes the session's pools still have room for (None: no such limit), for
    pages that show free places; the booking itself is decided under the locks."""
    pools = db.exec(select(CapacityPool).where(col(CapacityPool.id).in_(_pools_of(session_id)))).all()
    held_now = pool_holdings(db, [p.id for p in pools], now=now)
    pupils = [p.capacity_pupils - held_now.get(p.id, (0, 0))[0] for p in pools if p.capacity_pupils is not None]
    classes = [p.capacity_classes - held_now.get(p.id, (0, 0))[1] for p in pools if p.capacity_classes is not None]
    return (max(0, min(pupils)) if pupils else None, max(0, min(classes)) if classes else None)


def school_year_bounds(year: int) -> tuple[datetime, datetime]:
    """1 August of `year` to 1 August the year after, at Danish midnight, in UTC."""
    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), TIMEZONE).astimezone(UTC)

    return midnight(date(year, 8, 1)), midnight(date(year + 1, 8, 1))


def school_year_name(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def bookings_toward_cap(db: Session, school_id: int, offer_type: OfferType, year: int, *, now: datetime) -> int:
    """The school's bookings of one offer type in one school year that use up a cap: those that
    hold seats now, those on a waiting list (they may get seats without booking again) and those
    that have taken place. Cancelled, declined and expired ones (and lapsed holds) do not count."""
    from app.bookings.service import holds_seats

    start, end = school_year_bounds(year)
    return db.exec(
        # A long course's dates count as one booking.
        select(func.count(func.distinct(func.coalesce(col(Booking.course_id), col(Booking.id)))))
        .select_from(Booking)
        .join(OfferSession, col(OfferSession.id) == col(Booking.session_id))
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .where(
            Booking.school_id == school_id,
            Offer.type == offer_type,
            OfferSession.starts_at >= start,
            OfferSession.starts_at < end,
            or_(holds_seats(now), col(Booking.status).in_([BookingStatus.waitlisted, BookingStatus.completed])),
        )
    ).one()


def caps_for(db: Session, offer_type: OfferType, year: int, municipality: str | None) -> Sequence[SchoolCap]:
    """The caps that bind a school in that municipality: its municipality's and the region's."""
    return db.exec(
        select(SchoolCap)
        .where(
            SchoolCap.offer_type == offer_type,
            SchoolCap.school_year == year,
            or_(col(SchoolCap.municipality).is_(None), col(SchoolCap.municipality) == municipality),
        )
        .order_by(col(SchoolCap.max_bookings))
    ).all()


def check_school_cap(
    db: Session, offer: Offer, session: OfferSession, school_id: int, *, now: datetime
) -> None:
    """Raise Conflict when the school has used its cap for this offer type in the session's school
    year (runs under the school's lock)."""
    standing = school_cap_standing(db, offer, session, school_id, now=now)
    if standing is not None and standing[1] >= standing[0].max_bookings:
        raise Conflict(_cap_message(standing[0], offer.type))


def school_cap_standing(
    db: Session, offer: Offer, session: OfferSession, school_id: int, *, now: datetime
) -> tuple[SchoolCap, int] | None:
    """The tightest cap that binds the school for the offer's type in the session's school year,
    and how many of its bookings count toward it (None: no cap binds it). Every cap must hold, so
    the tightest is the one that matters."""
    school = db.get(Organisation, school_id)
    year = school_year_of(session.starts_at.astimezone(TIMEZONE).date())
    caps = caps_for(db, offer.type, year, school.municipality if school else None)
    if not caps:
        return None
    return caps[0], bookings_toward_cap(db, school_id, offer.type, year, now=now)


def cap_notice(db: Session, offer: Offer, session: OfferSession, school_id: int, *, now: datetime) -> tuple[str, bool] | None:
    """What the booking form says of the school's cap before the teacher books: the text, and
    whether the cap is reached (then it is the very message a booking would be refused with)."""
    standing = school_cap_standing(db, offer, session, school_id, now=now)
    if standing is None:
        return None
    cap, used = standing
    if used >= cap.max_bookings:
        return _cap_message(cap, offer.type), True
    values = {"used": used, "num": cap.max_bookings, "type": label(offer.type), "year": school_year_name(cap.school_year)}
    return (
        ngettext(
            "Your school may make %(num)d booking of the type “%(type)s” in the school year %(year)s and has made %(used)d.",
            "Your school may make %(num)d bookings of the type “%(type)s” in the school year %(year)s and has made %(used)d.",
            cap.max_bookings,
        )
        % values,
        False,
    )


def _cap_message(cap: SchoolCap, offer_type: OfferType) -> str:
    scope = (
        _("the limit for schools in %(municipality)s") % {"municipality": cap.municipality}
        if cap.municipality
        else _("the limit for all schools in the region")
    )
    values = {"num": cap.max_bookings, "type": label(offer_type), "year": school_year_name(cap.school_year), "scope": scope}
    if cap.max_bookings == 0:
        return _("Schools cannot book activities of the type “%(type)s” in the school year %(year)s (%(scope)s).") % values
    return (
        ngettext(
            "Your school has reached its limit of %(num)d booking of the type “%(type)s” in the school year %(year)s (%(scope)s).",
            "Your school has reached its limit of %(num)d bookings of the type “%(type)s” in the school year %(year)s (%(scope)s).",
            cap.max_bookings,
        )
        % values
    )


# --- capacity pools: the provider manages its own ------------------------------------------------


@dataclass
class PoolView:
    """A pool as its provider sees it: what it holds now and which dates share it."""

    pool: CapacityPool
    held_pupils: int = 0
    held_classes: int = 0
    sessions: list[tuple[OfferSession, Offer]] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return not _fits(self.pool, (self.held_pupils, self.held_classes), 1)


def _provider_id(actor: User) -> int:
    if actor.role != Role.provider or actor.organisation_id is None:
        raise Forbidden(_("Only providers can publish offers."))
    return actor.organisation_id


def own_pool(db: Session, actor: User, pool_id: int, *, lock: bool = False) -> CapacityPool:
    """A pool of the actor's own provider; any other is reported missing."""
    query = select(CapacityPool).where(CapacityPool.id == pool_id).execution_options(populate_existing=True)
    pool = db.exec(query.with_for_update() if lock else query).first()
    if pool is None or pool.provider_id != _provider_id(actor):
        raise NotFound(_("No such pool."))
    return pool


def pool_views(db: Session, actor: User, *, now: datetime, pool_id: int | None = None) -> list[PoolView]:
    query = select(CapacityPool).where(CapacityPool.provider_id == _provider_id(actor))
    if pool_id is not None:
        query = query.where(CapacityPool.id == pool_id)
    views = {p.id: PoolView(p) for p in db.exec(query.order_by(col(CapacityPool.name), col(CapacityPool.id)))}
    for pool_id_, (pupils, classes) in pool_holdings(db, list(views), now=now).items():
        views[pool_id_].held_pupils, views[pool_id_].held_classes = pupils, classes
    if views:
        rows = db.exec(
            select(CapacityPoolSession.pool_id, OfferSession, Offer)
            .join(OfferSession, col(OfferSession.id) == col(CapacityPoolSession.session_id))
            .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
            .where(col(CapacityPoolSession.pool_id).in_(list(views)))
            .order_by(col(OfferSession.starts_at), col(OfferSession.id))
        ).all()
        for pool_id_, session, offer in rows:
            views[pool_id_].sessions.append((session, offer))
    return list(views.values())


def _checked(name: str, capacity_pupils: int | None, capacity_classes: int | None) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput(_("Fill in this field."), field="name")
    if len(name) > 200:
        raise InvalidInput(_("Use at most %(count)d characters.") % {"count": 200}, field="name")
    check_one_line(name, field="name")
    for field_name, value in (("capacity_pupils", capacity_pupils), ("capacity_classes", capacity_classes)):
        if value is not None and not 1 <= value <= MAX_CAPACITY:
            raise InvalidInput(
                _("Write a whole number from %(min)d to %(max)d.") % {"min": 1, "max": MAX_CAPACITY}, field=field_name
            )
    if capacity_pupils is None and capacity_classes is None:
        raise InvalidInput(_("Give a limit in pupils, in classes or both."), field="capacity_pupils")
    return name


def create_pool(
    db: Session, actor: User, *, name: str, capacity_pupils: int | None, capacity_classes: int | None
) -> CapacityPool:
    provider_id = _provider_id(actor)
    pool = CapacityPool(
        provider_id=provider_id,
        name=_checked(name, capacity_pupils, capacity_classes),
        capacity_pupils=capacity_pupils,
        capacity_classes=capacity_classes,
    )
    db.add(pool)
    db.commit()
    db.refresh(pool)
    return pool


def update_pool(
    db: Session, actor: User, pool_id: int, *, name: str, capacity_pupils: int | None, capacity_classes: int | None
) -> CapacityPool:
    """Rename or change the limits. A lower limit than what is held takes no seats from anybody;
    it only stops new bookings until enough are freed."""
    own_pool(db, actor, pool_id)
    name = _checked(name, capacity_pupils, capacity_classes)
    begin_write(db)
    pool = own_pool(db, actor, pool_id, lock=True)  # waits for a booking that is counting it
    pool.name, pool.capacity_pupils, pool.capacity_classes = name, capacity_pupils, capacity_classes
    db.add(pool)
    db.commit()
    db.refresh(pool)
    return pool


def delete_pool(db: Session, actor: User, pool_id: int) -> None:
    begin_write(db)
    pool = own_pool(db, actor, pool_id, lock=True)
    db.exec(delete(CapacityPoolSession).where(col(CapacityPoolSession.pool_id) == pool.id))
    db.delete(pool)
    db.commit()


def pool_candidates(db: Session, actor: User, *, now: datetime) -> list[tuple[OfferSession, Offer]]:
    """The provider's dates that can join or leave a pool: upcoming and not cancelled."""
    return list(
        db.exec(
            select(OfferSession, Offer)
            .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
            .where(
                Offer.provider_id == _provider_id(actor),
                OfferSession.ends_at > now,
                col(OfferSession.cancelled_at).is_(None),
            )
            .order_by(col(Offer.title), col(Offer.id), col(OfferSession.starts_at), col(OfferSession.id))
        ).all()
    )


def set_pool_sessions(db: Session, actor: User, pool_id: int, session_ids: Sequence[int], *, now: datetime) -> None:
    """Make exactly the chosen upcoming dates share the pool; past and cancelled dates keep theirs.

    The dates that change are locked before the pool (the booking service's order), so a booking
    being made in such a date either finishes first and is counted, or comes after and sees the pool."""
    own_pool(db, actor, pool_id)
    candidates = {s.id for s, _offer in pool_candidates(db, actor, now=now)}
    chosen = set(session_ids)
    if not chosen <= candidates:
        raise NotFound(_("No such session."))
    current = set(db.exec(select(CapacityPoolSession.session_id).where(CapacityPoolSession.pool_id == pool_id)).all())
    joining, leaving = chosen - current, (current & candidates) - chosen
    if not joining and not leaving:
        return
    begin_write(db)
    db.exec(
        select(OfferSession.id)
        .where(col(OfferSession.id).in_(sorted(joining | leaving)))
        .order_by(col(OfferSession.id))
        .with_for_update()
    ).all()
    pool = own_pool(db, actor, pool_id, lock=True)
    if leaving:
        db.exec(
            delete(CapacityPoolSession).where(
                col(CapacityPoolSession.pool_id) == pool.id, col(CapacityPoolSession.session_id).in_(leaving)
            )
        )
    db.add_all([CapacityPoolSession(pool_id=pool.id, session_id=s) for s in sorted(joining)])
    db.commit()


# --- per-school caps: coordinators set them --------------------------------------------------------


def _staff(actor: User) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only coordinators and administrators may do this."))


def _in_scope(actor: User, municipality: str | None) -> bool:
    """A municipality's coordinator manages its own caps; the region's and admins manage all."""
    return not (actor.role == Role.coordinator and actor.municipality and municipality != actor.municipality)


def list_caps(db: Session, actor: User, *, from_year: int) -> Sequence[SchoolCap]:
    """The caps from that school year on that bind the actor's schools (for a municipality's
    coordinator: the region's and the municipality's own)."""
    _staff(actor)
    query = select(SchoolCap).where(SchoolCap.school_year >= from_year)
    if actor.role == Role.coordinator and actor.municipality:
        query = query.where(or_(col(SchoolCap.municipality).is_(None), col(SchoolCap.municipality) == actor.municipality))
    return db.exec(
        query.order_by(col(SchoolCap.school_year), col(SchoolCap.offer_type), col(SchoolCap.municipality).is_not(None), col(SchoolCap.municipality))
    ).all()


def set_cap(
    db: Session, actor: User, *, offer_type: OfferType, school_year: int, municipality: str | None, max_bookings: int, now: datetime
) -> SchoolCap:
    """Set the cap for one offer type, school year and municipality (None: the whole region);
    setting it again changes its number. It binds new bookings only: none already made is undone."""
    _staff(actor)
    if municipality is not None and municipality not in MUNICIPALITIES:
        raise InvalidInput(_("Choose one of the municipalities in the list."), field="municipality")
    if not _in_scope(actor, municipality):
        raise InvalidInput(
            _("You can only set limits for schools in %(municipality)s.") % {"municipality": actor.municipality},
            field="municipality",
        )
    if school_year not in planning_school_years(now):
        raise InvalidInput(_("Choose one of the options in the list."), field="school_year")
    if not 0 <= max_bookings <= MAX_CAP:
        raise InvalidInput(_("Write a whole number from %(min)d to %(max)d.") % {"min": 0, "max": MAX_CAP}, field="max_bookings")
    scope = col(SchoolCap.municipality).is_(None) if municipality is None else col(SchoolCap.municipality) == municipality
    cap = db.exec(
        select(SchoolCap).where(SchoolCap.offer_type == offer_type, SchoolCap.school_year == school_year, scope)
    ).first()
    if cap is None:
        cap = SchoolCap(offer_type=offer_type, school_year=school_year, municipality=municipality, created_by=actor.id, created_at=now)
    cap.max_bookings = max_bookings
    db.add(cap)
    db.commit()
    db.refresh(cap)
    return cap


def get_cap(db: Session, actor: User, cap_id: int) -> SchoolCap:
    """A limit the actor may change (another municipality's does not exist for them)."""
    _staff(actor)
    cap = db.get(SchoolCap, cap_id)
    if cap is None or not _in_scope(actor, cap.municipality):
        raise NotFound(_("No such limit."))
    return cap


def delete_cap(db: Session, actor: User, cap_id: int) -> None:
    db.delete(get_cap(db, actor, cap_id))
    db.commit()
