"""The booking rules: seats held, never overbooked under any concurrency, approvals, waiting list,
cancellations. Plain functions that take the database session, the acting user and `now`.

How overbooking is prevented: every change that uses or frees seats of a session first takes a
lock on that session (PostgreSQL: SELECT ... FOR UPDATE with a short lock timeout in a READ
COMMITTED transaction; SQLite: the database write lock, BEGIN IMMEDIATE), then counts what is held
from the bookings themselves, then writes, then commits. What a booking holds is computed at query
time from its state and hold deadline, so no scheduled job has to run for seats to come free.
"""

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import NoReturn, Protocol

import psycopg
from sqlalchemy import String, and_, bindparam, case, exists, func, or_, true
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import aliased, make_transient_to_detached
from sqlmodel import Session, col, select

from app.accounts import service as accounts
from app.accounts.models import Organisation, Role, SessionKind, User
from app.bookings import limits, locked_part
from app.bookings.models import (
    AllocationRound,
    Booking,
    BookingEvent,
    BookingStatus,
    RoundStatus,
)
from app.bookings.notices import tell_provider, tell_teacher
from app.bookings.schemas import BookingIn, check_reason
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferType
from app.config import get_settings
from app.db import UTCDateTime, before_the_transaction, begin_write, in_transaction_of_its_own
from app.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.i18n import _, local_datetime

# How long a pending booking holds its seats while it waits for a coordinator.
APPROVAL_TIME = timedelta(days=7)
ACTIVE = (BookingStatus.pending, BookingStatus.confirmed, BookingStatus.offered, BookingStatus.waitlisted)
HOLDING = (BookingStatus.pending, BookingStatus.confirmed, BookingStatus.offered)


class SessionFull(Conflict):
    pass


class Busy(DomainError):
    """The session is locked by others for longer than we wait; the caller may simply retry."""

    status_code = 503


def holds_seats(now: datetime):
    """SQL: the booking holds its seats now (confirmed, or pending/offered within its hold)."""
    return or_(
        col(Booking.status) == BookingStatus.confirmed,
        and_(
            col(Booking.status).in_([BookingStatus.pending, BookingStatus.offered]),
            or_(col(Booking.hold_until).is_(None), col(Booking.hold_until) > now),
        ),
    )


def held(db: Session, session_ids: Sequence[int], *, now: datetime) -> dict[int, tuple[int, int]]:
    """Pupils and classes held per session, counted from the bookings."""
    if not session_ids:
        return {}
    rows = db.exec(
        select(Booking.session_id, func.sum(Booking.pupils), func.count())
        .where(col(Booking.session_id).in_(session_ids), holds_seats(now))
        .group_by(col(Booking.session_id))
    ).all()
    return {session_id: (int(pupils or 0), int(classes)) for session_id, pupils, classes in rows}


def waiting(db: Session, session_ids: Sequence[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = db.exec(
        select(Booking.session_id, func.count())
        .where(col(Booking.session_id).in_(session_ids), Booking.status == BookingStatus.waitlisted)
        .group_by(col(Booking.session_id))
    ).all()
    return dict(rows)


def _lock_session(db: Session, session_id: int, *, keep_reads: bool = False) -> OfferSession:
    """Begin the transaction and take the session's lock (see the module's docstring).

    `keep_reads`: on PostgreSQL, take the lock in the transaction the caller's reads began instead
    of committing it first. Under READ COMMITTED every statement reads afresh anyway, and what the
    caller loaded (its user, the offer) stays loaded instead of being read again under the lock."""
    if not get_settings().booking_locks:  # test only: shows the race tests catch overbooking
        return db.get(OfferSession, session_id) or _no_session()
    postgres = db.get_bind().dialect.name == "postgresql"
    try:
        if not (keep_reads and postgres):
            begin_write(db)  # on SQLite this waits for the write lock, up to the busy timeout
        session = db.exec(_LOCK_SESSION_PG if postgres else _LOCK_SESSION, params={"session_id": session_id}).first()
    except OperationalError as error:
        _lock_not_had(db, error)
    return session or _no_session()


def _lock_not_had(db: Session, error: OperationalError) -> NoReturn:
    """A lock wait ran out (PostgreSQL's lock timeout, SQLite's busy timeout): answer "busy, try
    again"; any other database error goes on as it is."""
    db.rollback()
    if "lock" in str(error).lower() or "busy" in str(error).lower():
        raise Busy(_("Many are booking right now. Please try again in a moment.")) from None
    raise error


def _lock_sessions(db: Session, session_ids) -> dict[int, OfferSession]:
    """Begin the transaction and lock several sessions (`session_ids`: a SELECT of their ids),
    then every pool they are in, each in id order: the order every other change keeps, so that
    none waits for another in a circle."""
    postgres = db.get_bind().dialect.name == "postgresql"
    query = select(OfferSession).where(col(OfferSession.id).in_(session_ids)).order_by(col(OfferSession.id))
    query = query.execution_options(populate_existing=True)
    if not get_settings().booking_locks:  # test only, as in _lock_session
        return {s.id: s for s in db.exec(query).all()}
    try:
        begin_write(db)
        if postgres:
            query = query.where(func.set_config("lock_timeout", locked_part.LOCK_TIMEOUT, True) != "")
        sessions = db.exec(query.with_for_update()).all()
        limits.lock_pools_of(db, [s.id for s in sessions])
    except OperationalError as error:
        _lock_not_had(db, error)
    return {s.id: s for s in sessions}


def lock_in_id_order(db: Session, model, ids) -> list:
    """Lock rows (`ids`: ids, or a SELECT of them) in id order, after the date's lock, so that no
    two changes wait for each other in a circle; a wait beyond the lock timeout is "busy, try
    again", like the date's own lock."""
    query = (
        select(model)
        .where(col(model.id).in_(ids))
        .order_by(col(model.id))
        .with_for_update()
        .execution_options(populate_existing=True)  # read afresh what was read before the lock
    )
    try:
        return list(db.exec(query).all())
    except OperationalError as error:
        _lock_not_had(db, error)


def lock_session(db: Session, session_id: int) -> OfferSession:
    """For other domains that change what a session holds (its capacity): the same lock bookings take."""
    return _lock_session(db, session_id)


def _no_session():
    raise NotFound(_("No such session."))


def waiting_order():
    """The waiting list's order: an allocation round's draw first, then first come, first served."""
    return (col(Booking.queue_rank).is_(None), col(Booking.queue_rank), col(Booking.created_at), col(Booking.id))


def _log(
    db: Session, booking: Booking, actor: User | None, from_status: BookingStatus | None, to: BookingStatus, now: datetime, reason: str = ""
) -> None:
    db.add(
        BookingEvent(
            booking_id=booking.id, actor_id=actor.id if actor else None, from_status=from_status, to_status=to, reason=reason, at=now, told_at=now
        )
    )


def set_status(db: Session, booking: Booking, actor: User | None, to: BookingStatus, now: datetime, reason: str = "") -> None:
    _log(db, booking, actor, booking.status, to, now, reason)
    booking.status = to
    booking.updated_at = now
    db.add(booking)


def fits(session: OfferSession, held_now: tuple[int, int], pupils: int) -> bool:
    held_pupils, held_classes = held_now
    if held_pupils + pupils > session.capacity_pupils:
        return False
    return session.capacity_classes is None or held_classes + 1 <= session.capacity_classes


def _request_hash(data: BookingIn) -> str:
    return hashlib.sha256(data.model_dump_json().encode()).hexdigest()


def _replay(db: Session, teacher_id: int, key: str, request_hash: str) -> Booking | None:
    existing = db.exec(select(Booking).where(Booking.teacher_id == teacher_id, Booking.idempotency_key == key)).first()
    if existing is not None and existing.request_hash != request_hash:
        raise Conflict(_("This request key was already used for a different booking."))
    return existing


class Booker(Protocol):
    """Who books: a teacher at a school. A User, or only the columns of one that a booking needs
    (what `book_session_with_token` reads with the token)."""

    id: int
    role: Role
    organisation_id: int | None


def book_session(db: Session, teacher: User, data: BookingIn, *, now: datetime, idempotency_key: str | None = None) -> Booking:
    """Book a class into a session: confirmed, pending approval, or (when asked) waitlisted.

    What does not change while others book (the offer's rules) is checked before the lock; under
    the lock only what must be: the session's state, the class's other bookings, the seats."""
    _may_book(teacher)
    request_hash = _request_hash(data)
    if idempotency_key and (existing := _replay(db, teacher.id, idempotency_key, request_hash)):
        return existing
    # One read before the lock: the session, its offer and an allocation round open for the offer.
    # (Plain columns, not the ORM's objects: this runs for every request of a flash crowd.)
    found = db.exec(_SESSION_OFFER_ROUND, params={"session_id": data.session_id}).first()
    return _book(db, teacher, data, found, now=now, key=idempotency_key, request_hash=request_hash)


def book_session_with_token(db: Session, token: str, data: BookingIn, *, now: datetime, idempotency_key: str | None = None) -> Booking | None:
    """`book_session` for the holder of an API token (None: the token names nobody). The teacher,
    a booking they already made with the same key, and the session are read in one round trip:
    every request of a flash crowd does this."""
    params = {**accounts.session_params(token, kind=SessionKind.api, now=now), "session_id": data.session_id, "key": idempotency_key}
    with before_the_transaction(db):  # the transaction begins with the lock
        row = db.connection().execute(_TEACHER_TWIN_AND_SESSION, params).first()  # columns, no ORM objects
    if row is None:
        return None
    teacher = row  # its id, role and organisation_id: a Booker
    _may_book(teacher)
    request_hash = _request_hash(data)
    if row.twin_id is not None and (existing := _replay(db, teacher.id, idempotency_key, request_hash)):
        return existing
    found = row if row.offer_id is not None else None  # the columns of a session that does not exist are NULL
    return _book(db, teacher, data, found, now=now, key=idempotency_key, request_hash=request_hash)


def _may_book(teacher: Booker) -> None:
    if teacher.role != Role.teacher or teacher.organisation_id is None:
        raise Forbidden(_("Only teachers can book."))


def _book(db: Session, teacher: Booker, data: BookingIn, found, *, now: datetime, key: str | None, request_hash: str) -> Booking:
    """The booking, given what was read before the lock (`found`: a row of _SESSION_OFFER_ROUND's
    columns, None when there is no such session)."""
    if found is None or found.status != OfferStatus.published:
        raise NotFound(_("No such session."))
    if found.type == OfferType.expert:  # Offer.on_request
        raise Conflict(_("An expert's visit is booked by proposing a time."))
    check_offer_rules(found, data)
    if found.girls_only and data.girls is None:
        # Every pupil of a girls-only booking is a girl: the barometer counts them so.
        data = data.model_copy(update={"girls": data.pupils})
    _check_room_and_round(found, data.pupils, now=now)
    status = BookingStatus.pending if found.requires_approval else BookingStatus.confirmed
    if found.all_dates_together and found.round_id is None:
        return _book_course(db, teacher, data, found.offer_id, status, now=now, key=key, request_hash=request_hash)
    if found.round_id is None and not found.waiting and get_settings().booking_locks and db.get_bind().dialect.name == "postgresql":
        hold_until = approval_deadline(found, now)
        booking = _book_in_one_round_trip(db, teacher, data, status, hold_until, now=now, key=key, request_hash=request_hash)
        if booking is not None:
            return booking
    offer = db.get(Offer, found.offer_id)
    open_round = db.get(AllocationRound, found.round_id) if found.round_id is not None else None
    return _book_under_locks(db, teacher, data, offer, open_round, status, now=now, key=key, request_hash=request_hash)


def _check_room_and_round(found, pupils: int, *, now: datetime) -> None:
    """What the date refuses whatever its free places (`found`: a row of _SESSION_OFFER_ROUND)."""
    # Refused, not put on the waiting list: a class that can never have a place would wait forever.
    # (Should the capacity be lowered meanwhile, such a class on the list holds up nobody.)
    room = most_pupils(found.capacity_pupils, found.pool_capacity_pupils)
    if pupils > room:
        raise InvalidInput(_("The date has room for %(num)d pupils in all.") % {"num": room}, field="pupils")
    if found.round_id is not None and found.round_closes_at <= now:
        raise Conflict(_("The allocation round has closed and the places are being allocated. Please try again shortly."))


def booking_obstacle(db: Session, teacher: Booker, session_id: int, pupils: int, *, now: datetime) -> str | None:
    """Why `book_session` would refuse a class of `pupils` from the teacher's school on this date,
    whatever its free places (those the form tells apart: the waiting list may take the class), in
    the words the booking would refuse with; None when it would not. The booking form's live check
    asks this, so that what it says fits is not refused on submitting: the same rules, in the
    booking's order (without the class's name and grade, which the form checks field by field)."""
    found = db.exec(_SESSION_OFFER_ROUND, params={"session_id": session_id}).first()
    try:
        if found is None or found.status != OfferStatus.published:
            raise NotFound(_("No such session."))
        if found.type == OfferType.expert:
            raise Conflict(_("An expert's visit is booked by proposing a time."))
        if why := pupils_outside_limits(found, pupils):
            raise InvalidInput(why, field="pupils")
        _check_room_and_round(found, pupils, now=now)
        session = db.get(OfferSession, session_id)
        offer = db.get(Offer, found.offer_id)
        # A long course is booked from its first date still to come (as _book_course does).
        first = next(iter(course_dates(db, session, offer, now=now)), session)
        _refuse(
            None,
            cancelled=session.cancelled_at is not None,
            begun=session.starts_at <= now,
            too_late=first.booking_deadline is not None and first.booking_deadline < now,
            clash=False,
        )
        if teacher.organisation_id is not None:
            limits.check_school_cap(db, offer, first, teacher.organisation_id, now=now)
    except DomainError as error:
        return error.message
    return None


def _book_in_one_round_trip(
    db: Session, teacher: Booker, data: BookingIn, status: BookingStatus, hold_until: datetime, *, now: datetime, key: str | None, request_hash: str
) -> Booking | None:
    """PostgreSQL: the locked part of the booking in one round trip (app.bookings.locked_part), with
    the same rules as `_book_under_locks`. None: an allocation round, a school cap or a waiting
    list applies, which only the general path handles."""
    fields = {**data.model_dump(exclude={"waitlist"}), "school_id": teacher.organisation_id, "teacher_id": teacher.id}
    params = {
        **fields,
        "class_key": data.class_name.strip().lower(),
        "admitted": status.value,
        "waitlist": data.waitlist,
        "hold_until": hold_until,
        "key": key,
        "request_hash": request_hash,
        "now": now,
    }
    if in_transaction_of_its_own(db):
        # A page's reads began a transaction: end it now, or the call would run inside it and hold
        # its locks until a COMMIT of its own, one more round trip.
        _commit_keeping_values(db)
    try:
        outcome = locked_part.book(db, params)
    except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
        raise Busy(_("Many are booking right now. Please try again in a moment.")) from None
    except psycopg.errors.UniqueViolation:
        # The same key, booked at the same moment for another date: answer with that booking.
        if key and (existing := _replay(db, teacher.id, key, request_hash)):
            return existing
        raise
    if outcome is not None and outcome.id is not None:
        booking = Booking(
            **fields,
            id=outcome.id,
            status=BookingStatus(outcome.status),
            # In UTC, as every read through UTCDateTime gives it: psycopg hands the function's
            # answer over in the connection's time zone (tests/bookings/test_two_paths.py).
            hold_until=outcome.hold_until.astimezone(UTC) if outcome.hold_until else None,
            idempotency_key=key,
            request_hash=request_hash,
            created_at=now,
            updated_at=now,
        )
        make_transient_to_detached(booking)  # the row as written, known to the session without reading it back
        db.add(booking)
    _commit_keeping_values(db)  # ends the ORM's transaction (in the tests, their savepoint, which the call ran in)
    if outcome is None:
        raise NotFound(_("No such session."))
    if outcome.id is not None:
        return booking
    if outcome.twin is not None:
        return _replay(db, teacher.id, key, request_hash)
    if outcome.limited:
        return None
    _refuse(data, cancelled=outcome.cancelled, begun=outcome.begun, too_late=outcome.too_late, clash=outcome.clash)
    raise SessionFull(_("There are not enough free places. You can join the waiting list."))


def _book_course(
    db: Session, teacher: Booker, data: BookingIn, offer_id: int, admitted: BookingStatus, *, now: datetime, key: str | None, request_hash: str
) -> Booking:
    """A long course whose dates are one course (Offer.all_dates_together): the class is booked
    for every date still to come, in one transaction under all their locks, or for none. Returns
    the first date's booking, which stands for the course (it carries the request's key). A course
    has no waiting list: a class cannot wait for some of its dates and have the others."""
    dates = _lock_sessions(db, select(OfferSession.id).where(_dates_ahead(offer_id, now)))
    try:
        if key and (existing := _replay(db, teacher.id, key, request_hash)):
            db.rollback()  # a twin request booked while we waited for the locks
            db.refresh(existing)
            return existing
        if data.session_id not in dates:  # the date asked for is cancelled or has begun
            asked = db.get(OfferSession, data.session_id)
            _refuse(data, cancelled=asked.cancelled_at is not None, begun=True, too_late=False, clash=False)
        course = sorted(dates.values(), key=lambda d: (d.starts_at, d.id))
        first = course[0]
        _refuse(data, cancelled=False, begun=False, too_late=first.booking_deadline is not None and first.booking_deadline < now, clash=False)
        if get_settings().booking_locks:
            db.exec(_LOCK_SCHOOL, params={"school_id": teacher.organisation_id}).one()
        limits.check_school_cap(db, db.get(Offer, first.offer_id), first, teacher.organisation_id, now=now)
        bookings: list[Booking] = []
        for date in course:  # each date counted with the course's dates booked before it in this transaction
            params = {
                "session_id": date.id,
                "now": now,
                "school_id": teacher.organisation_id,
                "class_name": data.class_name.strip().lower(),
                "starts_at": date.starts_at,
                "ends_at": date.ends_at,
            }
            held_pupils, held_classes, queue, clash = db.exec(_SEATS_AND_CLASH, params=params).one()
            if clash:
                raise _clash_error(data.class_name)
            if queue or not fits(date, (held_pupils, held_classes), data.pupils) or not limits.pools_fit(db, limits.lock_pools(db, date.id), data.pupils, now=now):
                raise SessionFull(
                    _("There are not enough free places on every date of the course: %(when)s is full.") % {"when": local_datetime(date.starts_at, "medium")}
                )
            lead = not bookings
            booking = Booking(
                **data.model_dump(exclude={"waitlist", "session_id"}),
                session_id=date.id,
                school_id=teacher.organisation_id,
                teacher_id=teacher.id,
                status=admitted,
                hold_until=approval_deadline(first, now) if admitted == BookingStatus.pending else None,
                course_id=bookings[0].id if bookings else None,
                idempotency_key=key if lead else None,
                request_hash=request_hash if lead else None,
                created_at=now,
                updated_at=now,
            )
            db.add(booking)
            db.flush()
            # The first date's event is the one the worker tells of; the others are told with it.
            db.add(BookingEvent(booking_id=booking.id, actor_id=teacher.id, to_status=admitted, at=now, told_at=None if lead else now))
            bookings.append(booking)
        bookings[0].course_id = bookings[0].id
        _commit_keeping_values(db)
    except DomainError:
        db.rollback()  # none of the course's dates
        raise
    return bookings[0]


def course_dates(db: Session, session: OfferSession, offer: Offer, *, now: datetime) -> list[OfferSession]:
    """The dates a booking of this session books: every date still to come of a course whose dates
    go together, else the session alone."""
    if not offer.all_dates_together:
        return [session]
    return list(db.exec(select(OfferSession).where(_dates_ahead(offer.id, now)).order_by(col(OfferSession.starts_at))).all())


def _dates_ahead(offer_id: int, now: datetime):
    """SQL: the offer's dates that are neither cancelled nor begun."""
    return and_(OfferSession.offer_id == offer_id, col(OfferSession.cancelled_at).is_(None), OfferSession.starts_at > now)


def booked_course(db: Session, booking: Booking) -> list[tuple[Booking, OfferSession]]:
    """A long course's booking: each of its dates' bookings with the date, in date order."""
    if booking.course_id is None:
        return []
    rows = db.exec(
        select(Booking, OfferSession).join(OfferSession, col(OfferSession.id) == col(Booking.session_id)).where(Booking.course_id == booking.course_id)
    ).all()
    return sorted(((row, date) for row, date in rows), key=lambda pair: pair[1].starts_at)


def _refuse(data: BookingIn | None, *, cancelled: bool, begun: bool, too_late: bool, clash: bool) -> None:
    """Raise the reason a session cannot take the class, if it has one besides its free places."""
    if cancelled:
        raise Conflict(_("The date is cancelled."))
    if begun:
        raise Conflict(_("The date has already begun."))
    if too_late:
        raise Conflict(_("The booking deadline has passed."))
    if clash:
        raise _clash_error(data.class_name)


def _book_under_locks(
    db: Session,
    teacher: Booker,
    data: BookingIn,
    offer: Offer,
    open_round: AllocationRound | None,
    admitted: BookingStatus,
    *,
    now: datetime,
    key: str | None,
    request_hash: str,
) -> Booking:
    """The general path, statement by statement under the locks: SQLite, and school caps,
    allocation rounds and dates with a waiting list on PostgreSQL."""
    teacher_id, school_id, idempotency_key = teacher.id, teacher.organisation_id, key
    # While the lock is held others wait, so from here on every round trip to the database counts.
    session = _lock_session(db, data.session_id, keep_reads=True)
    if idempotency_key and (existing := _replay(db, teacher_id, idempotency_key, request_hash)):
        db.rollback()  # a twin request booked while we waited for the lock
        db.refresh(existing)
        return existing
    if open_round is not None:
        db.refresh(open_round)  # the draw may have run while we waited for the lock
        if open_round.status != RoundStatus.open:
            raise Conflict(_("The places have just been allocated. Please try again."))
    _refuse(
        data,
        cancelled=session.cancelled_at is not None,
        begun=session.starts_at <= now,
        too_late=session.booking_deadline is not None and session.booking_deadline < now,
        clash=False,
    )
    pools = limits.lock_pools(db, session.id)
    # The school's lock (always taken after a session's) keeps one class out of two overlapping
    # activities even when both are booked at the same moment. The whole row, kept referenced (the
    # identity map holds rows weakly), so that the school-cap check and the notices find it loaded.
    if get_settings().booking_locks:
        _school = db.exec(_LOCK_SCHOOL, params={"school_id": school_id}).one()
    # After every lock is taken (a statement reads what was committed when it began): the class's
    # clashes, the seats and classes held and the waiting list, in one round trip.
    held_pupils, held_classes, queue, clash = db.exec(
        _SEATS_AND_CLASH,
        params={
            "session_id": session.id,
            "now": now,
            "school_id": school_id,
            "class_name": data.class_name.strip().lower(),
            "starts_at": session.starts_at,
            "ends_at": session.ends_at,
        },
    ).one()
    if clash:
        raise _clash_error(data.class_name)
    limits.check_school_cap(db, offer, session, school_id, now=now)
    if queue and open_round is None:
        # Places may be free that the list has not been offered yet (a hold that ran out, a class
        # the list may pass): the list has them first, then this class, unless someone still waits
        # ahead of it who could have them.
        queue = promote_waiting_list(db, session, offer, now=now)
        held_pupils, held_classes = held(db, [session.id], now=now).get(session.id, (0, 0))
    if open_round is not None:
        status = BookingStatus.waitlisted  # a request, collected until the round allocates
    elif fits(session, (held_pupils, held_classes), data.pupils) and not queue and limits.pools_fit(db, pools, data.pupils, now=now):
        status = admitted  # nobody it may not pass waits ahead of it
    elif data.waitlist:
        status = BookingStatus.waitlisted
    else:
        raise SessionFull(_("There are not enough free places. You can join the waiting list."))

    booking = Booking(
        **data.model_dump(exclude={"waitlist"}),
        school_id=school_id,
        teacher_id=teacher_id,
        status=status,
        hold_until=approval_deadline(session, now) if status == BookingStatus.pending else None,
        round_id=open_round.id if open_round else None,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_at=now,
        updated_at=now,
    )
    db.add(booking)
    try:
        db.flush()  # the booking's id, for its event
        # Not yet told (told_at empty): the worker tells the teacher and the provider.
        db.add(BookingEvent(booking_id=booking.id, actor_id=teacher_id, to_status=status, at=now))
        _commit_keeping_values(db)
    except IntegrityError:
        # The same key arrived twice at once: the other request booked; answer with its result.
        db.rollback()
        if idempotency_key and (existing := _replay(db, teacher_id, idempotency_key, request_hash)):
            db.refresh(existing)
            return existing
        raise
    return booking


# What check_offer_rules reads of an offer.
OFFER_RULES = ("grade_min", "grade_max", "max_pupils", "min_pupils", "girls_only")


def check_offer_rules(offer: Offer, data: BookingIn) -> None:
    """The offer's rules for one booking (`offer`: an Offer, or a row with the OFFER_RULES columns)."""
    if not offer.grade_min <= data.grade <= offer.grade_max:
        raise InvalidInput(_("The activity is not for this grade."), field="grade")
    if why := pupils_outside_limits(offer, data.pupils):
        raise InvalidInput(why, field="pupils")
    if offer.girls_only and data.girls is not None and data.girls != data.pupils:
        raise InvalidInput(_("This activity is for girls only."), field="girls")


def pupils_outside_limits(offer: Offer, pupils: int) -> str | None:
    """Why the offer takes no booking of this many pupils (its most and fewest per booking), or None."""
    if offer.max_pupils and pupils > offer.max_pupils:
        return _("At most %(num)d pupils per booking.") % {"num": offer.max_pupils}
    if offer.min_pupils and pupils < offer.min_pupils:
        return _("At least %(num)d pupils per booking.") % {"num": offer.min_pupils}
    return None


_other, _other_session = aliased(Booking), aliased(OfferSession)


def class_clash(school_id, class_name, starts_at, ends_at, *, except_session_id=None):
    """SQL: the class (its name stripped and in lower case) has an active booking in an activity
    that overlaps the time from `starts_at` to `ends_at` (values or bound parameters), other than
    the date `except_session_id` when given (a date moved to a new time, catalogue.update_session)."""
    clash = exists().where(
        col(_other_session.id) == col(_other.session_id),
        _other.school_id == school_id,
        func.lower(_other.class_name) == class_name,
        col(_other.status).in_(ACTIVE),
        col(_other_session.cancelled_at).is_(None),
        _other_session.starts_at < ends_at,
        _other_session.ends_at > starts_at,
    )
    return clash if except_session_id is None else clash.where(col(_other_session.id) != except_session_id)


def _clash_error(class_name: str) -> Conflict:
    return Conflict(_("The class %(name)s is already booked for another activity at that time.") % {"name": class_name}, field="class_name")


def check_class_is_free(db: Session, school_id: int, data: BookingIn, session: OfferSession) -> None:
    """One class is never booked into two overlapping activities."""
    if db.exec(select(class_clash(school_id, data.class_name.strip().lower(), session.starts_at, session.ends_at))).one():
        raise _clash_error(data.class_name)


# The statements of a booking, built once: building a SQLAlchemy statement takes more CPU than
# PostgreSQL needs to run it, and book_session runs them while others wait for the session's lock.
_SESSION_OFFER_ROUND = (
    select(
        OfferSession.starts_at,
        OfferSession.offer_id,
        OfferSession.capacity_pupils,
        limits.smallest_pool(OfferSession.id).label("pool_capacity_pupils"),
        *(getattr(Offer, name) for name in ("status", "type", "requires_approval", "all_dates_together", *OFFER_RULES)),
        col(AllocationRound.id).label("round_id"),
        col(AllocationRound.closes_at).label("round_closes_at"),
        # A hint, decided again under the lock: with classes waiting, the general path books.
        exists().where(col(Booking.session_id) == col(OfferSession.id), Booking.status == BookingStatus.waitlisted).label("waiting"),
    )
    .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
    .outerjoin(AllocationRound, and_(col(AllocationRound.offer_id) == col(Offer.id), col(AllocationRound.status) == RoundStatus.open))
    .where(OfferSession.id == bindparam("session_id"))
)
# The same with the API token's teacher and the id of a booking they made with the same key.
_AHEAD = _SESSION_OFFER_ROUND.subquery("ahead")
_TWIN = (
    select(Booking.id)
    .where(col(Booking.teacher_id) == col(User.id), col(Booking.idempotency_key) == bindparam("key", type_=String))
    .scalar_subquery()
    .label("twin_id")
)
# Only the teacher's columns a booking needs (see Booker): loading a whole ORM User costs more CPU
# than the rest of the read, on every request of a flash crowd.
_TEACHER_TWIN_AND_SESSION = accounts.user_for_session_select(
    User.id, User.role, User.organisation_id, _TWIN, *_AHEAD.c
).outerjoin(_AHEAD, true())
# populate_existing: the row as it is now that we hold its lock, also when it was read before.
_LOCK_SESSION = (
    select(OfferSession).where(OfferSession.id == bindparam("session_id")).with_for_update().execution_options(populate_existing=True)
)
# PostgreSQL: SET LOCAL lock_timeout in the lock's own round trip (the filter runs before the row is locked).
_LOCK_SESSION_PG = _LOCK_SESSION.where(func.set_config("lock_timeout", locked_part.LOCK_TIMEOUT, True) != "")
_LOCK_SCHOOL = (
    select(Organisation).where(Organisation.id == bindparam("school_id")).with_for_update().execution_options(populate_existing=True)
)
_NOW = bindparam("now", type_=UTCDateTime())
_SEATS_AND_CLASH = select(
    func.coalesce(func.sum(case((holds_seats(_NOW), Booking.pupils), else_=0)), 0),
    func.count(case((holds_seats(_NOW), 1))),
    func.count(case((col(Booking.status) == BookingStatus.waitlisted, 1))),
    class_clash(
        bindparam("school_id"), bindparam("class_name"), bindparam("starts_at", type_=UTCDateTime()), bindparam("ends_at", type_=UTCDateTime())
    ),
).where(Booking.session_id == bindparam("session_id"))


def _commit_keeping_values(db: Session) -> None:
    """Commit without expiring what the transaction loaded and wrote: the answer is made from the
    booking just written, and expiring it would cost a round trip to read it back."""
    expire = db.expire_on_commit
    db.expire_on_commit = False
    try:
        db.commit()
    finally:
        db.expire_on_commit = expire


# --- who may see and change a booking -----------------------------------------------------------


def _can_see(db: Session, actor: User, booking: Booking) -> bool:
    if actor.role == Role.admin:
        return True
    if actor.role == Role.teacher:
        return booking.school_id == actor.organisation_id
    if actor.role == Role.provider:
        session = db.get(OfferSession, booking.session_id)
        offer = db.get(Offer, session.offer_id) if session else None
        return offer is not None and offer.provider_id == actor.organisation_id
    if actor.role == Role.coordinator:
        if actor.municipality is None:
            return True
        school = db.get(Organisation, booking.school_id)
        return school is not None and school.municipality == actor.municipality
    return False


def get_booking(db: Session, actor: User, booking_id: int) -> Booking:
    booking = db.get(Booking, booking_id)
    if booking is None or not _can_see(db, actor, booking):
        raise NotFound(_("No such booking."))
    return booking


def list_bookings(
    db: Session,
    actor: User,
    *,
    status: BookingStatus | None = None,
    session_id: int | None = None,
    offer_type: OfferType | None = None,
    municipality: str | None = None,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
    course_once: bool = False,
    most_urgent_first: bool = False,
) -> tuple[Sequence[Booking], int]:
    """The bookings the actor may see, oldest first.
    Filters: state, session, the offer's type, the school's municipality, when the activity starts.
    `course_once`: a long course booked as one (Booking.course_id) is one row, its first date among
    those the filters let through (its dates are approved, declined and cancelled together).
    `most_urgent_first`: by the hold's deadline (a pending booking's approval deadline, an offered
    place's), then the oldest: the approval queue, where the booking about to expire comes first."""
    query = select(Booking)
    if offer_type or starts_from or starts_before:
        query = query.join(OfferSession, col(OfferSession.id) == col(Booking.session_id))
        if offer_type:
            query = query.join(Offer, col(Offer.id) == col(OfferSession.offer_id)).where(Offer.type == offer_type)
        if starts_from:
            query = query.where(OfferSession.starts_at >= starts_from)
        if starts_before:
            query = query.where(OfferSession.starts_at < starts_before)
    if municipality:
        query = query.where(col(Booking.school_id).in_(select(Organisation.id).where(Organisation.municipality == municipality)))
    if actor.role == Role.teacher:
        query = query.where(Booking.school_id == actor.organisation_id)
    elif actor.role == Role.provider:
        own_sessions = select(OfferSession.id).join(Offer, col(Offer.id) == col(OfferSession.offer_id)).where(Offer.provider_id == actor.organisation_id)
        query = query.where(col(Booking.session_id).in_(own_sessions))
    elif actor.role == Role.coordinator and actor.municipality:
        schools = select(Organisation.id).where(Organisation.municipality == actor.municipality)
        query = query.where(col(Booking.school_id).in_(schools))
    elif not actor.is_staff:
        raise Forbidden(_("You cannot see bookings."))
    if status:
        query = query.where(Booking.status == status)
    if session_id:
        query = query.where(Booking.session_id == session_id)
    row = Booking
    if course_once:
        # A course's rows are written in the order of its dates, so its lowest id is its first date.
        nth = func.row_number().over(partition_by=func.coalesce(col(Booking.course_id), col(Booking.id)), order_by=col(Booking.id))
        ranked = query.add_columns(nth.label("nth")).subquery()
        row = aliased(Booking, ranked)
        query = select(row).where(ranked.c.nth == 1)
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    order = [row.created_at, row.id]
    if most_urgent_first:
        order.insert(0, row.hold_until.asc().nulls_last())  # type: ignore[attr-defined]
    items = db.exec(query.order_by(*order).limit(limit).offset(offset)).all()
    return items, total


def course_lengths(db: Session, bookings: Sequence[Booking]) -> dict[int, int]:
    """How many dates each of these bookings' courses has, by course id."""
    courses = {b.course_id for b in bookings if b.course_id is not None}
    if not courses:
        return {}
    query = select(Booking.course_id, func.count()).where(col(Booking.course_id).in_(courses)).group_by(col(Booking.course_id))
    return dict(db.exec(query).all())


def history(db: Session, booking: Booking) -> list[tuple[BookingEvent, str | None]]:
    """The booking's state changes, oldest first, with the name of who made each (None: the system)."""
    rows = db.exec(
        select(BookingEvent, User.name)
        .join(User, col(User.id) == col(BookingEvent.actor_id), isouter=True)
        .where(BookingEvent.booking_id == booking.id)
        .order_by(col(BookingEvent.at), col(BookingEvent.id))
    ).all()
    return [(event, name) for event, name in rows]


def waitlist_position(db: Session, booking: Booking) -> int | None:
    """The booking's place on its date's waiting list; None when it is not on it (nor a request
    still in the draw, `Booking.in_draw`). Ranked ones count only ranked ones and late-comers, the
    order places go in."""
    if booking.status != BookingStatus.waitlisted or booking.in_draw:
        return None
    queue = db.exec(select(Booking.id).where(_on_the_waiting_list(booking.session_id)).order_by(*waiting_order())).all()
    return queue.index(booking.id) + 1


# --- decisions ----------------------------------------------------------------------------------


def _locked_booking(db: Session, actor: User, booking_id: int) -> tuple[Booking, OfferSession]:
    booking = get_booking(db, actor, booking_id)
    session = _lock_session(db, booking.session_id)
    db.refresh(booking)  # re-read under the lock
    return booking, session


def _locked_with_course(db: Session, actor: User, booking_id: int) -> tuple[Booking, list[tuple[Booking, OfferSession]]]:
    """The booking under its session's lock and, for a long course's booking, every date of the
    course under theirs: (the booking, [(a date's booking, its session), ...] in date order)."""
    booking = get_booking(db, actor, booking_id)
    if booking.course_id is None:
        session = _lock_session(db, booking.session_id)
        db.refresh(booking)  # re-read under the lock
        return booking, [(booking, session)]
    of_course = col(Booking.course_id) == booking.course_id
    sessions = _lock_sessions(db, select(Booking.session_id).where(of_course))
    rows = db.exec(select(Booking).where(of_course).execution_options(populate_existing=True)).all()
    dates = sorted(((row, sessions[row.session_id]) for row in rows), key=lambda pair: (pair[1].starts_at, pair[0].id))
    return next(row for row, _ in dates if row.id == booking_id), dates


def _may_decide(db: Session, actor: User, booking: Booking) -> bool:
    return actor.is_staff and _can_see(db, actor, booking)


def approve_booking(db: Session, actor: User, booking_id: int, *, now: datetime) -> Booking:
    """Approve a pending booking (all the dates of a long course's booking)."""
    booking, dates = _locked_with_course(db, actor, booking_id)
    if not _may_decide(db, actor, booking):
        raise Forbidden(_("Only coordinators can approve bookings."))
    if booking.status != BookingStatus.pending:
        raise Conflict(_("Only a booking that awaits approval can be approved."))
    if booking.hold_until and booking.hold_until <= now:
        raise Conflict(_("The booking waited too long and has expired."))
    for row, _session in dates:
        if row.status == BookingStatus.pending:
            set_status(db, row, actor, BookingStatus.confirmed, now)
            row.hold_until = None
    tell_teacher(db, booking, "approved", now=now)
    db.commit()
    db.refresh(booking)
    return booking


def check_decline_reason(reason: str) -> None:
    """A decline needs a reason: the teacher is told it, and a declined class must know what to
    change. Checked before anything is declined, so a bulk decline without one declines none."""
    if not reason.strip():
        raise InvalidInput(_("Tell the teacher why the booking is declined."), field="reason")
    check_reason(reason)


def decline_booking(db: Session, actor: User, booking_id: int, *, reason: str, now: datetime) -> Booking:
    """Decline a booking that waits for approval or for a place (all the dates of a long course's).
    Never without a reason (check_decline_reason), asked for after who may decline it: a stranger
    learns nothing from the answer."""
    booking, dates = _locked_with_course(db, actor, booking_id)
    offer = db.get(Offer, dates[0][1].offer_id)
    own_provider = actor.role == Role.provider and offer is not None and offer.provider_id == actor.organisation_id
    if not (_may_decide(db, actor, booking) or own_provider):
        raise Forbidden(_("Only coordinators and the provider can decline bookings."))
    if booking.status not in (BookingStatus.pending, BookingStatus.waitlisted):
        raise Conflict(_("Only a booking that awaits approval or waits for a place can be declined."))
    check_decline_reason(reason)
    for row, session in dates:
        if row.status in (BookingStatus.pending, BookingStatus.waitlisted):
            set_status(db, row, actor, BookingStatus.declined, now, reason)
            row.reason = reason
            promote_waiting_list(db, session, offer, now=now)
    tell_teacher(db, booking, "declined", now=now)
    db.commit()
    for _row, session in dates:
        promote_pool_neighbours(db, session.id, now=now)
    db.refresh(booking)
    return booking


def cancel_booking(db: Session, actor: User, booking_id: int, *, reason: str, now: datetime) -> Booking:
    """Cancel (or leave the waiting list, or turn down an offered place) and, in the same
    transaction, offer the freed seats to the waiting list."""
    check_reason(reason)
    booking, dates = _locked_with_course(db, actor, booking_id)
    offer = db.get(Offer, dates[0][1].offer_id)
    if actor.role == Role.mentor:
        raise Forbidden(_("You cannot cancel this booking."))
    if booking.status not in ACTIVE:
        raise Conflict(_("The booking is no longer active."))
    active = [(row, session) for row, session in dates if row.status in ACTIVE]
    # The teacher's deadline (a long course's: its next date's); after it, only with a reason.
    late = cancelled_late(actor, booking, _cancel_by(active[0][1], offer), now=now)
    if late and not reason.strip():
        raise InvalidInput(_("The cancellation deadline has passed. Tell the provider why you cancel."), field="reason")
    provider_told = cancellation_tells_provider(actor, booking)
    for row, session in active:
        set_status(db, row, actor, BookingStatus.cancelled, now, reason)
        row.reason, row.late_cancellation = reason, late
        promote_waiting_list(db, session, offer, now=now)
    if provider_told:
        tell_provider(db, booking, "cancelled", now=now)
    # Also when the teacher cancelled it: a colleague may have, and the e-mail's calendar file
    # takes the activity out of the calendar it was added to.
    tell_teacher(db, booking, "cancelled", now=now)
    db.commit()
    for _row, session in active:
        promote_pool_neighbours(db, session.id, now=now)
    db.refresh(booking)
    return booking


def cancellation_tells_provider(actor: User, booking: Booking) -> bool:
    """Whether cancelling tells the provider (the teacher is always told): when the school gives up
    places it held; staff and the provider themselves know already."""
    return actor.role == Role.teacher and booking.status in HOLDING


def accept_offered_place(db: Session, actor: User, booking_id: int, *, now: datetime) -> Booking:
    """The teacher takes the waiting-list place held for the class: it becomes a booking (pending
    approval, or confirmed when the offer needs none). The seats were held, so nothing is recounted."""
    booking, session = _locked_booking(db, actor, booking_id)
    if actor.role != Role.teacher:
        raise Forbidden(_("Only the school's teachers can accept a place."))
    if booking.status != BookingStatus.offered:
        raise Conflict(_("No place is offered for this booking."))
    if booking.hold_until is not None and booking.hold_until <= now:
        raise Conflict(_("The offer has run out and the place has passed to the next class."))
    offer = db.get(Offer, session.offer_id)
    to = BookingStatus.pending if offer.requires_approval else BookingStatus.confirmed
    set_status(db, booking, actor, to, now, "accepted the offered place")
    booking.hold_until = approval_deadline(session, now) if to == BookingStatus.pending else None
    tell_teacher(db, booking, "booked", now=now)
    tell_provider(db, booking, "booked", now=now)
    db.commit()
    db.refresh(booking)
    return booking


def approval_deadline(session: OfferSession, now: datetime) -> datetime:
    return min(now + APPROVAL_TIME, session.starts_at)


def cancelled_late(actor: User, booking: Booking, deadline: datetime, *, now: datetime) -> bool:
    """Whether the actor cancelling now is late, and so must say why: a teacher, after the
    deadline, for a booking that holds its places or waits for approval."""
    return actor.role == Role.teacher and booking.status in (BookingStatus.pending, BookingStatus.confirmed) and now > deadline


def cancellation_deadline(db: Session, booking: Booking) -> datetime:
    """Until when the teacher may cancel without giving a reason: the offer's number of weekdays
    before the date (a long course's: before its next date still booked)."""
    dates = [date for row, date in booked_course(db, booking) if row.status in ACTIVE] or [db.get(OfferSession, booking.session_id)]
    return _cancel_by(dates[0], db.get(Offer, dates[0].offer_id))


def free_cancellation_deadline(first_date: OfferSession, offer: Offer) -> datetime:
    """Until when a booking of this date (a long course's: its first date) may be cancelled
    without a reason: what the booking form warns of before the teacher books."""
    return _cancel_by(first_date, offer)


def _cancel_by(first_date: OfferSession, offer: Offer) -> datetime:
    return _weekdays_before(first_date.starts_at, offer.cancellation_weekdays)


def _weekdays_before(moment: datetime, weekdays: int) -> datetime:
    day = moment
    while weekdays > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            weekdays -= 1
    return day


def promote_waiting_list(db: Session, session: OfferSession, offer: Offer, *, now: datetime) -> bool:
    """Offer free places to waiting classes in the list's order, each held for the offer's hold
    time. A class that does not fit is passed over when the offer allows it; otherwise the list
    stops at it. Runs inside the caller's locked transaction. Returns whether the list stopped:
    a class waits that nobody may pass and that could have a place some day.

    An expert's visit is a session made for one class: when its booking ends, the visit is off."""
    if offer.on_request and session.cancelled_at is None:
        session.cancelled_at = now
        db.add(session)
    if session.cancelled_at is not None or session.starts_at <= now:
        return False
    db.flush()
    pools = limits.lock_pools(db, session.id)
    queue = db.exec(select(Booking).where(_on_the_waiting_list(session.id)).order_by(*waiting_order())).all()
    room = most_pupils(session.capacity_pupils, *(pool.capacity_pupils for pool in pools))
    for booking in queue:
        held_now = held(db, [session.id], now=now).get(session.id, (0, 0))
        if not (fits(session, held_now, booking.pupils) and limits.pools_fit(db, pools, booking.pupils, now=now)):
            # A class larger than the date now takes (its capacity was lowered) never holds up the list.
            if offer.waitlist_may_pass or booking.pupils > room:
                continue
            return True
        set_status(db, booking, None, BookingStatus.offered, now, "a place became free")
        booking.hold_until = min(now + timedelta(hours=offer.waitlist_offer_hours), session.starts_at)
        tell_teacher(db, booking, "offered", now=now)
        db.flush()
    return False


def most_pupils(*capacities: int | None) -> int:
    """The most pupils one class can ever have on a date: the least of its capacity and its
    pools' (None: a pool without a limit in pupils)."""
    return min(c for c in capacities if c is not None)


def _on_the_waiting_list(session_id: int):
    """SQL: the date's waiting classes. Requests of an allocation round wait for its draw, which
    gives each a queue_rank."""
    return and_(
        Booking.session_id == session_id,
        Booking.status == BookingStatus.waitlisted,
        or_(col(Booking.round_id).is_(None), col(Booking.queue_rank).is_not(None)),
    )


def promote_pool_neighbours(db: Session, session_id: int, *, now: datetime) -> None:
    """Seats freed in a date also free room in the capacity pools it shares with other dates: offer
    that room to those dates' waiting lists, each date in its own locked transaction (so the lock
    order, a date before its pools, is kept)."""
    neighbours = db.exec(
        select(Booking.session_id)
        .distinct()
        .where(
            Booking.status == BookingStatus.waitlisted,
            Booking.session_id != session_id,
            col(Booking.session_id).in_(limits.sessions_sharing_pools(session_id)),
        )
    ).all()
    db.rollback()
    for neighbour in sorted(neighbours):
        session = _lock_session(db, neighbour)
        promote_waiting_list(db, session, db.get(Offer, session.offer_id), now=now)
        db.commit()


def classes_to_tell(db: Session, session_id: int) -> tuple[int, int]:
    """How many classes are booked into a date (or have a place offered) and how many wait for one:
    the teachers a cancellation of the date tells."""
    query = select(Booking.status, func.count()).where(Booking.session_id == session_id, col(Booking.status).in_(ACTIVE))
    counts = dict(db.exec(query.group_by(col(Booking.status))).all())
    return sum(counts.get(s, 0) for s in HOLDING), counts.get(BookingStatus.waitlisted, 0)


def cancel_session_bookings(db: Session, actor: User, session_id: int, *, now: datetime) -> list[Booking]:
    """The provider cancels a date: the date closes and every active booking in it is cancelled
    and its teacher told, under the session's lock so that no booking slips in meanwhile."""
    session = _lock_session(db, session_id)
    if session.cancelled_at is None:
        session.cancelled_at = now
        db.add(session)
    cancelled = db.exec(
        select(Booking).where(Booking.session_id == session.id, col(Booking.status).in_(ACTIVE))
    ).all()
    for booking in cancelled:
        waited = booking.status == BookingStatus.waitlisted
        set_status(db, booking, actor, BookingStatus.cancelled, now, "the provider cancelled the date")
        tell_teacher(db, booking, "date_cancelled_while_waiting" if waited else "date_cancelled", now=now)
    db.commit()
    return list(cancelled)


def expire_holds(db: Session, *, now: datetime) -> int:
    """Mark pending bookings not approved by their deadline, and offered places not taken in time,
    `expired`; tell the teachers and offer the seats to the waiting list. Seats stopped being held
    at the deadline anyway (they are counted at query time); this makes it visible and moves the
    list on. One locked transaction per session; returns how many expired."""
    is_stale = and_(col(Booking.status).in_([BookingStatus.pending, BookingStatus.offered]), col(Booking.hold_until) <= now)
    session_ids = sorted(set(db.exec(select(Booking.session_id).where(is_stale).distinct()).all()))
    db.rollback()
    expired = 0
    told_courses: set[int] = set()  # a long course's dates expire together: its teacher is told once
    for session_id in session_ids:
        session = _lock_session(db, session_id)
        offer = db.get(Offer, session.offer_id)
        for booking in db.exec(select(Booking).where(is_stale, Booking.session_id == session_id)).all():
            kind = "expired_pending" if booking.status == BookingStatus.pending else "expired_offer"
            set_status(db, booking, None, BookingStatus.expired, now, "not approved in time" if kind == "expired_pending" else "not accepted in time")
            if booking.course_id not in told_courses:
                tell_teacher(db, booking, kind, now=now)
            if booking.course_id is not None:
                told_courses.add(booking.course_id)
            expired += 1
        promote_waiting_list(db, session, offer, now=now)
        db.commit()
        promote_pool_neighbours(db, session_id, now=now)
    return expired
