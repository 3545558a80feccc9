"""PostgreSQL: the locked part of a booking in one round trip.

While one booking holds its session's lock, every other booking of that session waits. If the
transaction went back to Python between its statements, the lock would be held for as long as a
busy worker process takes to come back to it (most of the time, under a flash crowd). psycopg's
pipeline mode instead sends the whole locked part at once, and PostgreSQL runs it without waiting
for us:

    SELECT ... FOR UPDATE           -- the session's lock (with SET LOCAL lock_timeout: "busy, try
                                    -- again" rather than a long wait), its pools', the school's
    WITH facts ..., new AS (INSERT INTO bookings ...), event AS (INSERT INTO booking_events ...)
    SELECT facts, new               -- counts afresh: it starts after the locks are taken
    COMMIT                          -- then one Sync, and the results come back

The insert is `service.book_session`'s decision in SQL: the seats and classes held in the session
and in each capacity pool it is in (`service.holds_seats`, `limits.pools_fit`), the waiting list
nobody jumps, the class's overlapping bookings (`service.check_class_is_free`). It books nothing
when the date is cancelled, has begun or is past its deadline, when the class clashes, when a twin
request with the same key has booked, and when an open allocation round or a school cap applies:
those take the general path. It returns the facts it decided on, so the service can say why.

These rules are written here a second time, in SQL: a change to them in the service must be made
here too. The same service, race and state-machine tests run on both databases, so each path is
checked (SQLite takes the general one, PostgreSQL this one).
"""

from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy.util import await_only
from sqlmodel import Session

LOCK_TIMEOUT = "3s"

_BOOK = """
WITH facts AS (
    SELECT
        s.cancelled_at IS NOT NULL AS cancelled,
        s.starts_at <= %(now)s AS begun,
        coalesce(s.booking_deadline < %(now)s, false) AS too_late,
        s.capacity_pupils,
        s.capacity_classes,
        held.pupils AS held_pupils,
        held.classes AS held_classes,
        held.waiting > 0 AS queue,
        EXISTS (
            SELECT FROM bookings b JOIN offer_sessions o ON o.id = b.session_id
            WHERE b.school_id = %(school_id)s AND lower(b.class_name) = %(class_key)s
              AND b.status IN ('pending', 'confirmed', 'offered', 'waitlisted')
              AND o.cancelled_at IS NULL AND o.starts_at < s.ends_at AND o.ends_at > s.starts_at
        ) AS clash,
        EXISTS (
            SELECT FROM capacity_pool_sessions mine
            JOIN capacity_pools p ON p.id = mine.pool_id
            CROSS JOIN LATERAL (
                SELECT coalesce(sum(b.pupils), 0) AS pupils, count(*) AS classes
                FROM capacity_pool_sessions other JOIN bookings b ON b.session_id = other.session_id
                WHERE other.pool_id = p.id AND (b.status = 'confirmed'
                    OR (b.status IN ('pending', 'offered') AND (b.hold_until IS NULL OR b.hold_until > %(now)s)))
            ) pool_held
            WHERE mine.session_id = s.id
              AND (pool_held.pupils + %(pupils)s > p.capacity_pupils OR pool_held.classes + 1 > p.capacity_classes)
        ) AS pool_full,
        EXISTS (SELECT FROM allocation_rounds r WHERE r.offer_id = s.offer_id AND r.status = 'open')
            OR EXISTS (SELECT FROM school_caps c JOIN offers f ON f.type = c.offer_type WHERE f.id = s.offer_id)
            AS limited,
        (SELECT b.id FROM bookings b WHERE b.teacher_id = %(teacher_id)s AND b.idempotency_key = %(key)s::varchar) AS twin
    FROM offer_sessions s
    CROSS JOIN LATERAL (
        SELECT
            coalesce(sum(b.pupils) FILTER (WHERE holds), 0) AS pupils,
            count(*) FILTER (WHERE holds) AS classes,
            count(*) FILTER (WHERE b.status = 'waitlisted') AS waiting
        FROM bookings b
        CROSS JOIN LATERAL (
            SELECT b.status = 'confirmed'
                OR (b.status IN ('pending', 'offered') AND (b.hold_until IS NULL OR b.hold_until > %(now)s)) AS holds
        ) h
        WHERE b.session_id = s.id
    ) held
    WHERE s.id = %(session_id)s
),
decision AS (
    SELECT CASE
        WHEN held_pupils + %(pupils)s <= capacity_pupils
            AND (capacity_classes IS NULL OR held_classes + 1 <= capacity_classes)
            AND NOT queue
            AND NOT pool_full
            THEN %(admitted)s::varchar
        WHEN %(waitlist)s THEN 'waitlisted'
    END AS status
    FROM facts
    WHERE NOT (cancelled OR begun OR too_late OR clash OR limited) AND twin IS NULL
),
new AS (
    INSERT INTO bookings (
        session_id, school_id, teacher_id, status, class_name, grade, pupils, girls, adults, needs,
        contact_phone, hold_until, late_cancellation, reason, allocation_note, idempotency_key,
        request_hash, created_at, updated_at
    )
    SELECT
        %(session_id)s, %(school_id)s, %(teacher_id)s, status, %(class_name)s::varchar, %(grade)s,
        %(pupils)s, %(girls)s::integer, %(adults)s, %(needs)s::varchar, %(contact_phone)s::varchar,
        CASE WHEN status = 'pending' THEN %(hold_until)s::timestamptz END, false, '', '',
        %(key)s::varchar, %(request_hash)s::varchar, %(now)s, %(now)s
    FROM decision
    WHERE status IS NOT NULL
    RETURNING id, status, hold_until
),
event AS (
    INSERT INTO booking_events (booking_id, actor_id, to_status, reason, at)
    SELECT id, %(teacher_id)s, status, '', %(now)s FROM new
)
SELECT facts.cancelled, facts.begun, facts.too_late, facts.clash, facts.limited, facts.twin, new.id, new.status, new.hold_until
FROM facts LEFT JOIN new ON true
"""


# SET LOCAL lock_timeout in the same statement (the filter runs before the row is locked).
_LOCK_SESSION = f"""
SELECT FROM offer_sessions
WHERE id = %(session_id)s AND set_config('lock_timeout', '{LOCK_TIMEOUT}', true) <> ''
FOR UPDATE
"""
# The pools the session is in, in id order, after the session and before the school: the order of
# `service._book_under_locks` and of every other change that locks them.
_LOCK_POOLS = """
SELECT FROM capacity_pools
WHERE id IN (SELECT pool_id FROM capacity_pool_sessions WHERE session_id = %(session_id)s)
ORDER BY id FOR UPDATE
"""


# The session's lock, its pools', the school's: in this order, as every other change takes them.
_LOCKS = (_LOCK_SESSION, _LOCK_POOLS, "SELECT FROM organisations WHERE id = %(school_id)s FOR UPDATE")


@dataclass(frozen=True)
class Outcome:
    """What the locked statement booked (`id` is None when it booked nothing), and the facts that
    say why not when it did not; otherwise the class did not fit (the date, a pool, or the
    waiting list ahead)."""

    cancelled: bool
    begun: bool
    too_late: bool
    clash: bool
    limited: bool
    twin: int | None
    id: int | None
    status: str | None
    hold_until: datetime | None


def book(db: Session, params: dict) -> Outcome | None:
    """Run the locked part (see the module's docstring) in the transaction the caller's reads began,
    and commit it. None: the session does not exist. After an error (psycopg.errors.LockNotAvailable
    when the lock was not had in time, UniqueViolation when a twin request for another date took
    the key) the transaction is rolled back and the error raised."""
    connection = db.connection()
    # Inside a savepoint (tests keep each test in one transaction) the ORM releases it instead.
    commit_here = not connection.in_nested_transaction()
    conn = connection.connection.driver_connection
    try:
        if isinstance(conn, psycopg.AsyncConnection):  # the session runs in the event loop (db.in_event_loop)
            row = await_only(_send_async(conn, params, commit_here))
        else:
            row = _send(conn, params, commit_here)
        if not commit_here:
            db.commit()
    except psycopg.Error:
        db.rollback()
        raise
    return Outcome(*row) if row else None


# COMMIT as a statement of the pipeline, not `conn.commit()`: that waits for a Sync of its own, and
# leaving the pipeline then waits for another, two round trips instead of one. Here the results come
# back with the Sync sent on leaving. (After an error PostgreSQL skips the rest, COMMIT too, and
# leaving raises it: the transaction is then rolled back by `book`.)
_COMMIT = "COMMIT"


def _send(conn: psycopg.Connection, params: dict, commit: bool) -> tuple | None:
    with conn.pipeline():
        for statement in _LOCKS:
            conn.execute(statement, params)
        cursor = conn.execute(_BOOK, params)
        if commit:
            conn.execute(_COMMIT)
    return cursor.fetchone()


async def _send_async(conn: psycopg.AsyncConnection, params: dict, commit: bool) -> tuple | None:
    async with conn.pipeline():
        for statement in _LOCKS:
            await conn.execute(statement, params)
        cursor = await conn.execute(_BOOK, params)
        if commit:
            await conn.execute(_COMMIT)
    return await cursor.fetchone()
