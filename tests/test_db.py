"""The database layer: SQLite settings, and times that stay timezone-aware on every database."""

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.accounts.models import AuthSession, SessionKind
from app.db import (
    before_the_transaction,
    in_event_loop,
    in_transaction_of_its_own,
    make_async_engine,
    make_engine,
)
from app.main import create_app
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_user


def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_sqlite_can_take_the_write_lock_up_front(tmp_path):
    path = tmp_path / "x.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect().execution_options(sqlite_immediate=True) as writer:
        writer.begin()  # BEGIN IMMEDIATE: the write lock is ours before we read anything
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    engine.dispose()


def test_times_come_back_aware_and_equal(db):
    user = make_user(db, "teacher")
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=1)))  # DST change night
    db.add(
        AuthSession(
            token_hash="x" * 64,
            user_id=user.id,
            kind=SessionKind.web,
            created_at=moment,
            expires_at=moment,
        )
    )
    db.commit()
    db.expire_all()
    stored = db.get(AuthSession, "x" * 64)
    assert stored.created_at.tzinfo is not None
    assert stored.created_at == moment and stored.created_at.astimezone(UTC).hour == 0


def test_naive_times_are_refused(db):
    user = make_user(db, "teacher")
    db.add(
        AuthSession(
            token_hash="y" * 64,
            user_id=user.id,
            kind=SessionKind.web,
            expires_at=datetime(2026, 1, 1),
        )
    )
    with pytest.raises(Exception, match="naive"):
        db.commit()
    db.rollback()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL's connection pool")
def test_a_burst_reuses_the_pools_connections_and_opens_no_new_ones(database_url):
    """More requests at once than the pool holds wait for a connection: no PostgreSQL process is
    started for the burst and thrown away after it, and the most recently used one is used next."""
    engine = make_engine(database_url, pool_size=2)

    def backend(seconds: float = 0.0) -> int:
        with engine.connect() as connection:
            return connection.execute(text("SELECT pg_backend_pid() FROM pg_sleep(:s)"), {"s": seconds}).scalar_one()

    with engine.connect() as first, engine.connect() as second:
        pool = {c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in (first, second)}
    with ThreadPoolExecutor(max_workers=6) as burst:
        during = set(burst.map(backend, [0.05] * 12))
    assert during == pool  # both used, and no third process opened
    last = backend()
    assert backend() == backend() == last  # last in, first out
    engine.dispose()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL's connection pool")
def test_when_no_connection_is_free_in_time_the_answer_is_busy_not_an_error(test_settings):
    app = create_app(test_settings)
    app.state.engine = make_engine(test_settings.database_url, pool_size=1, pool_timeout=0.2)
    with app.state.engine.connect(), TestClient(app) as client:  # the pool's one connection is in use
        api = client.get("/api/v1/offers")
        page = client.get("/catalogue")
    app.state.engine.dispose()
    assert api.status_code == 503 and api.headers["retry-after"] == "5"
    assert api.json()["detail"] == "Many are using the portal right now. Please try again in a moment."
    assert page.status_code == 503 and "Mange bruger portalen lige nu" in page.text


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL's async driver")
def test_on_postgresql_a_transaction_runs_in_the_event_loop_on_an_async_connection(test_settings):
    """What `get_transaction` hands the booking API on PostgreSQL (the live-server race tests book
    through it): the services' sync code, on the event loop's own thread, over psycopg's async
    connection."""
    engine = create_app(test_settings).state.async_engine

    def work(db) -> tuple[type, int, int]:
        connection = db.connection().connection.driver_connection
        return type(connection), threading.get_ident(), db.exec(text("SELECT 41 + 1")).scalar_one()

    async def run() -> tuple[type, int, int]:
        try:
            return await in_event_loop(engine, work, limiter=None)
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == (psycopg.AsyncConnection, threading.get_ident(), 42)


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL's async driver")
def test_a_booking_on_a_connection_the_database_dropped_is_answered_try_again(test_settings):
    """The bookings' pool does not ping a connection before using it (a round trip per booking):
    one the database has dropped fails that one request with 503 and Retry-After, not a 500, and
    the next request gets a fresh connection."""
    app = create_app(test_settings)  # the real get_transaction: the booking runs on the async pool
    app.state.async_engine = make_async_engine(test_settings.database_url, pool_size=1)
    body = {"session_id": 1, "class_name": "8.a", "grade": 8, "pupils": 20}
    headers = {"Authorization": "Bearer not-a-token"}  # the token's look-up is the first statement
    admin_engine = make_engine(test_settings.database_url, pool_size=1)
    others = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
    with TestClient(app) as client, admin_engine.connect() as admin:
        admin.execution_options(isolation_level="AUTOCOMMIT")  # each look at pg_stat_activity afresh
        before = set(admin.execute(others).scalars())
        assert client.post("/api/v1/bookings", json=body, headers=headers).status_code == 401
        (pooled,) = set(admin.execute(others).scalars()) - before  # the pool's one connection
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled}).scalar_one()
        lost = client.post("/api/v1/bookings", json=body, headers=headers)
        again = client.post("/api/v1/bookings", json=body, headers=headers)
    assert lost.status_code == 503 and lost.headers["retry-after"] == "1"
    assert lost.json()["detail"] == "The portal lost its connection to the database for a moment. Please try again."
    admin_engine.dispose()
    assert again.status_code == 401


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL's transactions")
def test_a_read_before_the_transaction_sends_no_begin_and_the_transaction_begins_after_it(test_settings):
    """Inside, a statement is its own transaction (it started when the statement did: no BEGIN was
    sent ahead of it); the next one runs in a transaction begun before it. On both of the app's
    PostgreSQL drivers' paths: the thread's sync connection and the event loop's async one."""
    alone = "SELECT now() = statement_timestamp()"
    after = "SELECT now() < statement_timestamp()"  # BEGIN went first, in a round trip of its own

    def work(db) -> tuple[bool, bool]:
        with before_the_transaction(db):
            first = db.exec(text(alone)).scalar_one()
        return first, db.exec(text(after)).scalar_one()

    engine = make_engine(test_settings.database_url, pool_size=1)
    with Session(engine) as db:
        assert work(db) == (True, True)
    engine.dispose()

    async def in_loop() -> tuple[bool, bool]:
        async_engine = make_async_engine(test_settings.database_url, pool_size=1)
        try:
            return await in_event_loop(async_engine, work, limiter=None)
        finally:
            await async_engine.dispose()

    assert asyncio.run(in_loop()) == (True, True)


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL's transactions")
def test_a_session_knows_whether_it_began_a_transaction_of_its_own(test_settings):
    """The booking's locked call ends a page's read transaction first (so its locks are not held
    over another round trip for a COMMIT), but not the tests' savepoint in their transaction."""
    engine = make_engine(test_settings.database_url, pool_size=1)
    with Session(engine) as db:
        assert not in_transaction_of_its_own(db)  # nothing sent yet
        db.exec(text("SELECT 1")).one()
        assert in_transaction_of_its_own(db)  # the read began one
        db.commit()
        assert not in_transaction_of_its_own(db)
    with (
        engine.connect() as connection,
        connection.begin(),
        Session(bind=connection, join_transaction_mode="create_savepoint") as joined,
    ):
        joined.exec(text("SELECT 1")).one()
        assert not in_transaction_of_its_own(joined)  # a savepoint in a transaction it joined
    engine.dispose()
