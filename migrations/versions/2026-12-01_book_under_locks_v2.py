"""book_under_locks_v2(): v1, but a date with a waiting list takes the general path

Revision ID: 1f7493d50e4b
Revises: 8c4f2a7e9b13
Create Date: 2026-12-01 18:30:00

v1 put a class behind anyone on the date's waiting list. But the list may have been offered too
little: a hold that ran out frees its seats before the worker marks it expired, and a class the
list may pass (Offer.waitlist_may_pass) should have the seats it fits. When anyone waits, v2 books
nothing and answers `limited`, and the service's general path moves the list first, then decides
(app.bookings.service._book_under_locks). Everything else is v1's, unchanged.

v1 stays until no release that calls it runs any more (see v1's migration); a later migration
drops it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "1f7493d50e4b"
down_revision: str | None = "8c4f2a7e9b13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOOK_UNDER_LOCKS_V2 = """
CREATE FUNCTION book_under_locks_v2(
    _session_id integer, _school_id integer, _teacher_id integer, _class_name varchar, _class_key text,
    _grade integer, _pupils integer, _girls integer, _adults integer, _needs varchar, _contact_phone varchar,
    _admitted varchar, _waitlist boolean, _hold_until timestamptz, _key varchar, _request_hash varchar,
    _now timestamptz, _lock_timeout text
) RETURNS TABLE (
    cancelled boolean, begun boolean, too_late boolean, clash boolean, limited boolean,
    twin integer, id integer, status varchar, hold_until timestamptz
)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- The recount below is right only if it sees what others committed while we waited for the
    -- locks: a fresh snapshot per statement, which READ COMMITTED gives and stricter levels do not.
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'book_under_locks_v2 needs READ COMMITTED, not %', current_setting('transaction_isolation');
    END IF;
    -- "Busy, try again" rather than a long wait for a lock (local: until the statement's transaction ends).
    PERFORM set_config('lock_timeout', _lock_timeout, true);
    -- The session's lock, its pools' in id order, the school's: the order every other change keeps.
    PERFORM FROM offer_sessions s WHERE s.id = _session_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;  -- no row: no such session
    END IF;
    PERFORM FROM capacity_pools p
    WHERE p.id IN (SELECT pool_id FROM capacity_pool_sessions WHERE session_id = _session_id) ORDER BY p.id FOR UPDATE;
    PERFORM FROM organisations o WHERE o.id = _school_id FOR UPDATE;
    -- In READ COMMITTED each statement of a VOLATILE function takes a fresh snapshot: this one
    -- counts what was committed before the locks were had, and decides as service.book_session does.
    -- (Every name below that is also an output column is qualified: PL/pgSQL refuses ambiguous ones.)
    RETURN QUERY
    WITH facts AS (
        SELECT
            s.cancelled_at IS NOT NULL AS cancelled,
            s.starts_at <= _now AS begun,
            coalesce(s.booking_deadline < _now, false) AS too_late,
            s.capacity_pupils, s.capacity_classes,
            held.pupils AS held_pupils, held.classes AS held_classes,
            EXISTS (
                SELECT FROM bookings b JOIN offer_sessions o ON o.id = b.session_id
                WHERE b.school_id = _school_id AND lower(b.class_name) = _class_key
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
                        OR (b.status IN ('pending', 'offered') AND (b.hold_until IS NULL OR b.hold_until > _now)))
                ) pool_held
                WHERE mine.session_id = s.id
                  AND (pool_held.pupils + _pupils > p.capacity_pupils OR pool_held.classes + 1 > p.capacity_classes)
            ) AS pool_full,
            EXISTS (SELECT FROM allocation_rounds r WHERE r.offer_id = s.offer_id AND r.status = 'open')
                OR EXISTS (SELECT FROM school_caps c JOIN offers f ON f.type = c.offer_type WHERE f.id = s.offer_id)
                OR held.waiting > 0  -- the general path moves the list before it decides
                AS limited,
            (SELECT b.id FROM bookings b WHERE b.teacher_id = _teacher_id AND b.idempotency_key = _key) AS twin
        FROM offer_sessions s
        CROSS JOIN LATERAL (
            SELECT
                coalesce(sum(b.pupils) FILTER (WHERE holds), 0) AS pupils,
                count(*) FILTER (WHERE holds) AS classes,
                count(*) FILTER (WHERE b.status = 'waitlisted') AS waiting
            FROM bookings b
            CROSS JOIN LATERAL (
                SELECT b.status = 'confirmed'
                    OR (b.status IN ('pending', 'offered') AND (b.hold_until IS NULL OR b.hold_until > _now)) AS holds
            ) h
            WHERE b.session_id = s.id
        ) held
        WHERE s.id = _session_id
    ),
    decision AS (
        SELECT CASE
            WHEN f.held_pupils + _pupils <= f.capacity_pupils
                AND (f.capacity_classes IS NULL OR f.held_classes + 1 <= f.capacity_classes)
                AND NOT f.pool_full
                THEN _admitted
            WHEN _waitlist THEN 'waitlisted'
        END AS status
        FROM facts f
        WHERE NOT (f.cancelled OR f.begun OR f.too_late OR f.clash OR f.limited) AND f.twin IS NULL
    ),
    new AS (
        INSERT INTO bookings (
            session_id, school_id, teacher_id, status, class_name, grade, pupils, girls, adults, needs,
            contact_phone, hold_until, late_cancellation, reason, allocation_note, idempotency_key,
            request_hash, created_at, updated_at
        )
        SELECT _session_id, _school_id, _teacher_id, d.status, _class_name, _grade, _pupils, _girls, _adults, _needs,
            _contact_phone, CASE WHEN d.status = 'pending' THEN _hold_until END, false, '', '',
            _key, _request_hash, _now, _now
        FROM decision d WHERE d.status IS NOT NULL
        RETURNING bookings.id, bookings.status, bookings.hold_until
    ),
    event AS (
        INSERT INTO booking_events (booking_id, actor_id, to_status, reason, at)
        SELECT new.id, _teacher_id, new.status, '', _now FROM new
    )
    SELECT f.cancelled, f.begun, f.too_late, f.clash, f.limited, f.twin, new.id, new.status::varchar, new.hold_until
    FROM facts f LEFT JOIN new ON true;
END
$$
"""



def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BOOK_UNDER_LOCKS_V2)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION book_under_locks_v2")
