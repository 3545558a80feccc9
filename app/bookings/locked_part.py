"""PostgreSQL: the locked part of a booking in one statement, one round trip.

While one booking holds its session's lock, every other booking of that session waits. If the
transaction went back to Python between its statements, the lock would be held for as long as a
busy worker process takes to come back to it (most of the time, under a flash crowd). So the
locked part is one call of a function in the database, `book_under_locks_v2` (its migration,
migrations/versions/2026-12-01_book_under_locks_v2.py, holds its SQL), run as a transaction of its
own:

    SET LOCAL lock_timeout          -- "busy, try again" rather than a long wait
    SELECT ... FOR UPDATE           -- the session's lock, its pools', the school's
    WITH facts ..., new AS (INSERT INTO bookings ...), event AS (INSERT INTO booking_events ...)
    SELECT facts, new               -- counts afresh: in READ COMMITTED (the function refuses
                                    -- any other level) each of its statements has a snapshot
                                    -- of its own, taken after the locks are had

The insert is `service.book_session`'s decision in SQL: the seats and classes held in the session
and in each capacity pool it is in (`service.holds_seats`, `limits.pools_fit`), the class's
overlapping bookings (`service.check_class_is_free`). It books nothing when the date is cancelled,
has begun or is past its deadline, when the class clashes, when a twin request with the same key
has booked, and when an open allocation round, a school cap or a waiting list applies: those take
the general path (which moves the waiting list before it decides). It returns the facts it
decided on, so the service can say why.

A function rather than the same statements sent from here in one psycopg pipeline (as before):
psycopg sends and waits for each statement of a pipeline on its own, which cost the app about
twice the CPU of one call (bench/README.md).

These rules are written a second time, in SQL: a change to them in the service must be made there
too, as a new migration with `book_under_locks_v3`, which this module then calls (v1's migration
says why the versions, and when an old one goes). The same service, race and state-machine tests
run on both databases, so each path is checked (SQLite takes the general one, PostgreSQL this one).
"""

from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy.util import await_only
from sqlmodel import Session

from app.db import before_the_transaction

LOCK_TIMEOUT = "3s"

# Named arguments: the function's parameters are `service`'s booking parameters with a leading _.
_PARAMETERS = (
    "session_id", "school_id", "teacher_id", "class_name", "class_key", "grade", "pupils", "girls", "adults", "needs",
    "contact_phone", "admitted", "waitlist", "hold_until", "key", "request_hash", "now", "lock_timeout",
)  # fmt: skip
_CALL = f"SELECT * FROM book_under_locks_v2({', '.join(f'_{name} => %({name})s' for name in _PARAMETERS)})"


@dataclass(frozen=True)
class Outcome:
    """What the locked statement booked (`id` is None when it booked nothing), and the facts that
    say why not when it did not; otherwise the class did not fit (the date or a pool)."""

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
    """Run the locked part (see the module's docstring) as a transaction of its own. Inside a
    transaction already begun (the tests', or a page's reads) it runs as part of that one, which
    the caller then commits. None: the session does not exist. Raises
    psycopg.errors.LockNotAvailable when the locks were not had in time, UniqueViolation when a
    twin request for another date took the key; nothing is then written."""
    params = {**params, "lock_timeout": LOCK_TIMEOUT}
    try:
        with before_the_transaction(db):
            conn = db.connection().connection.driver_connection
            if isinstance(conn, psycopg.AsyncConnection):  # the session runs in the event loop (db.in_event_loop)
                row = await_only(_call_async(conn, params))
            else:
                row = conn.execute(_CALL, params).fetchone()
    except psycopg.Error:
        db.rollback()
        raise
    return Outcome(*row) if row else None


async def _call_async(conn: psycopg.AsyncConnection, params: dict) -> tuple | None:
    cursor = await conn.execute(_CALL, params)
    return await cursor.fetchone()
