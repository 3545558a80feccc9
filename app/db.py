"""Database engine, sessions and the column types every domain shares."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from anyio import CapacityLimiter, to_thread
from fastapi import Request
from psycopg.pq import TransactionStatus
from sqlalchemy import DateTime, Engine, String, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.concurrency import run_in_threadpool

# Stable constraint names, so Alembic can find and drop them on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Ids are 32-bit integers on every database; larger numbers from outside can never name a row.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, always timezone-aware in Python.

    PostgreSQL keeps the offset; SQLite stores text and would hand back naive values, so we store
    UTC there and put the zone back when reading.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def one_of(column: str, enum: type[StrEnum]) -> str:
    """A CHECK constraint's SQL: the column holds one of the enum's values."""
    return f"{column} IN ({', '.join(repr(m.value) for m in enum)})"


class StrEnumType(TypeDecorator[StrEnum]):
    """A StrEnum stored as its value in a VARCHAR, read back as the enum member (CHECK constraints
    on the tables keep the values honest)."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 20) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def make_engine(url: str, *, pool_size: int = 10, pool_timeout: float = 30) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        _configure_sqlite(engine)
        return engine
    # A fixed set of connections (as in make_async_engine), the most recently used first. A connection
    # opened for a burst and closed after it (the pool's "overflow") costs PostgreSQL a new process
    # with cold catalog caches and loses the statements psycopg has prepared on it; a burst of
    # requests larger than the pool waits for a connection instead, at no CPU cost (up to
    # `pool_timeout` seconds; then the request is answered "busy", see main.py). Last in, first out
    # keeps the busy few warm (and lets the rest idle rather than each being used in turn).
    # Measured in bench/README.md.
    return create_engine(url, **_pool(pool_size, pool_timeout))


def make_async_engine(url: str, *, pool_size: int = 10) -> AsyncEngine | None:
    """PostgreSQL's engine for `in_event_loop` (psycopg's async connections, a pool of their own
    like make_engine's); None for SQLite, whose work always goes to a thread."""
    if url.startswith("sqlite"):
        return None
    # No "ping" before each use: it was one of a booking's five round trips to the database, each
    # costing the app CPU in the flash crowd (bench/README.md). A connection the database dropped
    # (say, in a restart) fails its one request instead, answered "try again" (main.py), which a
    # booking can safely do with the same Idempotency-Key; SQLAlchemy then replaces the whole pool.
    return create_async_engine(url, **_pool(pool_size, 30, pre_ping=False))


def _pool(size: int, timeout: float, *, pre_ping: bool = True) -> dict:
    return {"pool_pre_ping": pre_ping, "pool_size": size, "max_overflow": 0, "pool_timeout": timeout, "pool_use_lifo": True}


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin: that makes SAVEPOINT work
        # and lets a writer take the write lock up front (BEGIN IMMEDIATE) when it needs to.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def begin_write(db: Session) -> None:
    """Start a transaction that reads and then writes on what it read (check, then book).

    SQLite: take the database's write lock before reading (BEGIN IMMEDIATE), so nobody changes
    what we check before we write; waiting writers queue on the busy timeout. PostgreSQL: a
    normal transaction; the caller locks the rows it depends on with SELECT ... FOR UPDATE.
    """
    if db.in_transaction():
        db.commit()
    db.connection(execution_options={"sqlite_immediate": True})


def in_transaction_of_its_own(db: Session) -> bool:
    """PostgreSQL: whether the session's connection is in a transaction that the session began (not
    one it joined, as the tests' sessions do, each in a savepoint of the test's transaction)."""
    connection = db.connection()
    return (
        connection.dialect.name == "postgresql"
        and not connection.in_nested_transaction()
        and connection.connection.driver_connection.info.transaction_status != TransactionStatus.IDLE
    )


@contextmanager
def before_the_transaction(db: Session) -> Iterator[None]:
    """PostgreSQL: what runs inside runs on its own, before the session's transaction has begun,
    so psycopg sends no BEGIN ahead of it, a round trip saved (reads that need no transaction: a
    flash crowd's read before its lock). The transaction then begins with the next statement.
    Elsewhere, or with a transaction already begun (the tests'), as usual."""
    connection = db.connection()
    pooled = connection.connection
    if connection.dialect.name != "postgresql" or pooled.driver_connection.info.transaction_status != TransactionStatus.IDLE:
        yield
        return
    pooled.dbapi_connection.autocommit = True
    try:
        yield
    finally:
        if pooled.is_valid:  # not when the database dropped it (it is thrown away)
            try:
                pooled.dbapi_connection.autocommit = False
            except Exception:
                # Interrupted in the middle of its statement (say, cancelled at shutdown): a
                # connection left in autocommit would take its next locks one statement at a time.
                pooled.invalidate()
                raise


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's database session. Made in the event loop (making one does no I/O); closed in
    a worker thread only when it is still in a transaction (closing one rolls back), so a handler
    that ends its transaction itself, in the thread it ran in, costs no extra trip to the pool."""
    session = Session(request.app.state.engine)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


T = TypeVar("T")


class Transaction(Protocol):
    """Runs `work` (sync code: the services) with a database session of its own and ends the
    session's transaction; at most as many at once as `limiter` lets through."""

    def __call__(self, work: Callable[[Session], T], *, limiter: CapacityLimiter | None) -> Awaitable[T]: ...


async def in_own_thread(engine: Engine, work: Callable[[Session], T], *, limiter: CapacityLimiter | None) -> T:
    """`work` with a session of its own in a worker thread (SQLite); closing it there rolls back
    whatever `work` left uncommitted."""

    def run() -> T:
        with Session(engine) as db:
            return work(db)

    return await to_thread.run_sync(run, limiter=limiter)


async def in_event_loop(engine: AsyncEngine, work: Callable[[Session], T], *, limiter: CapacityLimiter | None) -> T:
    """PostgreSQL: the same sync code in a greenlet on the event loop (SQLAlchemy's `run_sync`),
    each statement awaited on psycopg's async connection. No trip to a thread and no thread waiting
    for the GIL while the loop is busy: under a flash crowd that costs a booking more than its SQL
    (figures in bench/README.md)."""
    async with limiter or nullcontext(), AsyncSession(engine) as session:
        return await session.run_sync(work)
