"""Test fixtures: a migrated database (SQLite, or PostgreSQL from TEST_DATABASE_URL), each test in a
transaction that is rolled back, the app wired to it, and a real SMTP server that keeps what it got."""

import email
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from email import policy
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import TypeVar

import httpx
import psycopg
import pytest
from aiosmtpd.controller import Controller
from alembic import command
from alembic.config import Config
from anyio import CapacityLimiter, to_thread
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url
from sqlmodel import Session

from app.bookings.notices import booking_calendar, tell_about_new_bookings
from app.config import Settings
from app.db import get_db, make_engine, utcnow
from app.deps import get_transaction
from app.main import create_app
from app.notifications import service as notifications

ROOT = Path(__file__).resolve().parents[1]
if os.environ.get("TEST_TODAY"):
    # Every Python process of the run, this one included, lives on that day (tests/clock).
    CLOCK = str(ROOT / "tests" / "clock")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [CLOCK, os.environ.get("PYTHONPATH")]))
    runpy.run_path(os.path.join(CLOCK, "sitecustomize.py"))
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# Under pytest-xdist each worker gets databases of its own.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def clock_env() -> dict[str, str]:
    """The environment that keeps a child process started with an environment of its own on the
    run's clock (tests/clock)."""
    return {name: os.environ[name] for name in ("TEST_TODAY", "PYTHONPATH") if name in os.environ}


def worker_database(url: str, name: str | None = None) -> str:
    """A PostgreSQL URL naming this worker's own database (optionally one more, named after the
    given one, so that runs pointed at different databases never share one)."""
    base, database = url.rsplit("/", 1)
    return f"{base}/{database}{'_' + name if name else ''}{'_' + WORKER if WORKER else ''}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_portal(
    database_url: str, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[str]:
    """uvicorn serving the app on its own port and database, in its own process(es), with extra
    environment variables if given; yields the base address once /healthz answers, and stops the
    server afterwards."""
    env = {**os.environ, "DATABASE_URL": database_url, "ENVIRONMENT": "test", **(env or {})}
    env.pop("SMTP_HOST", None)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,  # its own process group: the workers can be stopped with it
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the portal did not start"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # A server stuck on requests that never finish does not stop gracefully.
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def recreate_postgres_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{parsed.database}"')


def alembic_config(url: str) -> Config:
    config = Config("alembic.ini")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def fresh_database(url_or_path: str) -> str:
    """A new, migrated database: a PostgreSQL database of that name, or a SQLite file at that path."""
    if url_or_path.startswith("postgresql"):
        recreate_postgres_database(url_or_path)
        url = url_or_path
    else:
        url = f"sqlite:///{url_or_path}"
    command.upgrade(alembic_config(url), "head")
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        return fresh_database(worker_database(TEST_DATABASE_URL))
    return fresh_database(str(tmp_path_factory.mktemp("db") / "test.db"))


@pytest.fixture(scope="session")
def engine(database_url) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine) -> Iterator[Session]:
    """A session whose every commit is a savepoint inside one transaction rolled back at the end."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()
    transaction.rollback()
    connection.close()


class Mailbox:
    """What the test SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    _controller, box = smtp_server
    box.messages.clear()
    return box


@pytest.fixture
def send_outbox(db, settings, mailbox):
    """Run the worker's e-mail jobs now, into the test SMTP server: tell of new bookings, then
    send the outbox. Returns how many went out."""

    def run(now: datetime | None = None) -> int:
        tell_about_new_bookings(db, now=now or utcnow())
        return notifications.send_outbox(db, settings, now=now or utcnow(), attachment=booking_calendar)

    return run


@pytest.fixture(scope="session")
def test_settings(database_url, smtp_server) -> Settings:
    controller, _box = smtp_server
    return Settings(
        environment="test",
        database_url=database_url,
        base_url="http://testserver",
        smtp_host=controller.hostname,
        smtp_port=controller.port,
    )


@pytest.fixture
def settings(test_settings) -> Settings:
    return test_settings


@pytest.fixture(scope="session")
def shared_app(test_settings):
    # Building the app takes tens of milliseconds: once per run, not once per test.
    return create_app(test_settings)


T = TypeVar("T")


async def in_thread(db: Session, work: Callable[[Session], T], *, limiter: CapacityLimiter | None) -> T:
    """What the app's `get_transaction` hands a handler, but with the test's session: `work` with
    `db` in a worker thread, rolling back there whatever it left uncommitted."""

    def run() -> T:
        try:
            return work(db)
        finally:
            if db.in_transaction():
                db.rollback()

    return await to_thread.run_sync(run, limiter=limiter)


@pytest.fixture
def app(shared_app, settings, db):
    shared_app.state.settings = settings
    shared_app.dependency_overrides[get_db] = lambda: db
    # Handlers that run their own work get the test's session too (in a thread), also on PostgreSQL,
    # where the app runs it in the event loop on a connection of its own (the live-server tests).
    shared_app.dependency_overrides[get_transaction] = lambda: partial(in_thread, db)
    yield shared_app
    shared_app.dependency_overrides.clear()
    shared_app.state.settings = settings


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client
