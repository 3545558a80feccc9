"""The outbox with a slow mail server and several workers, on a committed database of its own
(SQLite, or PostgreSQL when TEST_DATABASE_URL is set): nobody waits for the mail server, two
workers never send one message twice, and a worker that dies mid-send leaves its message to be
tried again."""

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from app.bookings import service as bookings
from app.bookings.notices import booking_calendar, tell_about_new_bookings
from app.bookings.schemas import BookingIn
from app.config import Settings
from app.db import make_engine, utcnow
from app.notifications import service as notifications
from app.notifications.models import OutboxMessage
from tests.conftest import (
    ROOT,
    TEST_DATABASE_URL,
    Mailbox,
    clock_env,
    free_port,
    fresh_database,
    worker_database,
)
from tests.factories import make_user, published_session

# The longest the held mail server keeps a message before it answers anyway: under SQLite's busy
# timeout (15 s), so that with a sender that keeps the write lock a booking waits instead of
# failing, and the test shows the order of the two; under the client's SMTP timeout (15 s).
HOLD = 12


def no_attachment(db, message):
    return None


class HeldMailbox(Mailbox):
    """A mail server that has each message's content but answers only when the test releases it
    (or after HOLD seconds): a slow mail server, as slow as the test needs."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.arrived.set()
        await asyncio.to_thread(self.release.wait, HOLD)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> Iterator[tuple[str, Engine]]:
    """A database of this module's own, whose data is committed (several sessions and a worker
    process see it), and its engine."""
    if TEST_DATABASE_URL:
        url = fresh_database(worker_database(TEST_DATABASE_URL, "outbox"))
    else:
        url = fresh_database(str(tmp_path_factory.mktemp("outbox") / "outbox.db"))
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


@pytest.fixture
def engine(committed) -> Engine:
    """The committed database's engine, quiet: every booking told of, the outbox empty."""
    _url, engine = committed
    with Session(engine) as db:
        tell_about_new_bookings(db, now=utcnow())
        db.exec(delete(OutboxMessage))
        db.commit()
    return engine


@pytest.fixture
def held(settings) -> Iterator[tuple[HeldMailbox, Settings]]:
    """A slow mail server, and settings that send to it."""
    box = HeldMailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, settings.model_copy(update={"smtp_port": controller.port})
    box.release.set()
    controller.stop()


def queue_mail(engine: Engine, subject: str, *, booking_id: int | None = None, age: timedelta = timedelta()) -> str:
    """An outbox message to a new teacher, written `age` ago and committed; returns their address."""
    with Session(engine) as db:
        teacher = make_user(db, "teacher")
        notifications.notify(db, teacher, kind="approved", subject=subject, body="Hej", now=utcnow() - age,
                             booking_id=booking_id, base_url="https://stem.example")
        db.commit()
        return teacher.email


def book(db: Session, session_id: int) -> int:
    teacher = make_user(db, "teacher")
    data = BookingIn(session_id=session_id, class_name="7.a", grade=7, pupils=20)
    return bookings.book_session(db, teacher, data, now=utcnow()).id


def transactions_open_elsewhere(db: Session) -> int:
    """PostgreSQL: how many other connections to this database are in a transaction, between
    statements (a sender waiting for the mail server would be)."""
    return db.connection().exec_driver_sql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
    ).scalar_one()


def test_a_teacher_books_while_the_mail_server_keeps_an_e_mail_waiting(engine, held):
    """The outbox's promise: a slow mail server never slows a booking. On SQLite a sender that
    kept its write transaction while talking to SMTP would make every booking wait for it."""
    box, slow = held
    with Session(engine) as db:
        _offer, date = published_session(db, capacity=100)
        date_id = date.id
        booking_id = book(db, date_id)
    address = queue_mail(engine, "Modtaget: Vandets kredsløb", booking_id=booking_id)
    happened = []

    def worker() -> None:
        with Session(engine) as db:
            sent = notifications.send_outbox(db, slow, now=utcnow(), attachment=booking_calendar)
        happened.append(f"sent {sent}")

    sender = threading.Thread(target=worker)
    sender.start()
    try:
        assert box.arrived.wait(30), "the e-mail never reached the mail server"
        # The mail server has the message and has not answered.
        with Session(engine) as db:
            open_meanwhile = transactions_open_elsewhere(db) if db.get_bind().dialect.name == "postgresql" else 0
            book(db, date_id)
        happened.append("booked")
    finally:
        box.release.set()
        sender.join(30)
    assert happened == ["booked", "sent 1"]
    assert open_meanwhile == 0  # not even the reads that make the calendar file
    (mail,) = box.to(address)
    assert any(part.get_content_type() == "text/calendar" for part in mail.iter_attachments())


def test_a_message_being_sent_is_not_taken_by_another_worker(engine, held, settings, mailbox):
    box, slow = held
    # Long waiting (the worker was down): it would look overdue, were it not being sent.
    address = queue_mail(engine, "Godkendt: Robotter", age=2 * notifications.OVERDUE)
    now = utcnow()
    results = []

    def first_worker() -> None:
        with Session(engine) as db:
            results.append(notifications.send_outbox(db, slow, now=now, attachment=no_attachment))

    first = threading.Thread(target=first_worker)
    first.start()
    try:
        assert box.arrived.wait(30), "the e-mail never reached the mail server"
        with Session(engine) as db:  # a second worker, to a mail server that answers at once
            assert notifications.send_outbox(db, settings, now=now, attachment=no_attachment) == 0
            # Being sent, it is neither overdue nor undelivered on the secretariat's page.
            assert notifications.overdue(db, now=now) == 0
            assert notifications.undelivered(db) == []
    finally:
        box.release.set()
        first.join(30)
    assert results == [1]
    assert len(box.to(address)) == 1 and mailbox.to(address) == []


def test_workers_racing_over_the_outbox_send_each_message_once(engine, settings, mailbox):
    subjects = [f"Besked {n}" for n in range(30)]
    for subject in subjects:
        queue_mail(engine, subject)
    now = utcnow()
    start = threading.Barrier(4)
    sent = []

    def worker() -> None:
        start.wait()
        with Session(engine) as db:
            sent.append(notifications.send_outbox(db, settings, now=now, attachment=no_attachment))

    workers = [threading.Thread(target=worker) for _ in range(4)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(60)
    assert sum(sent) == len(subjects)
    assert sorted(m["Subject"] for m in mailbox.messages) == sorted(subjects)


def test_a_message_whose_worker_died_mid_send_is_sent_when_the_claim_runs_out(
    committed, engine, held, settings, mailbox
):
    url, _engine = committed
    box, slow = held
    address = queue_mail(engine, "Afvist: Robotter", age=2 * notifications.OVERDUE)
    before = utcnow()
    env = {"DATABASE_URL": url, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(slow.smtp_port), "PATH": "/usr/bin:/bin", **clock_env()}
    worker = subprocess.Popen([sys.executable, "-m", "app", "worker", "--once"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert box.arrived.wait(60), "the worker's e-mail never reached the mail server"
    finally:
        worker.kill()  # while the mail server has the message and has not answered
        worker.wait(30)

    with Session(engine) as db:
        message = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == address)).one()
        # Claimed, not sent, and no attempt counted: not shown as failed, nor as overdue.
        assert message.sent_at is None and message.attempts == 0
        assert message.send_after >= before + notifications.CLAIM_LEASE
        now = utcnow()
        assert notifications.undelivered(db) == []
        assert notifications.overdue(db, now=now) == 0
        # Nobody sends it while the dead worker's claim lasts; the next worker after it does.
        assert notifications.send_outbox(db, settings, now=now, attachment=no_attachment) == 0
        assert notifications.send_outbox(db, settings, now=message.send_after, attachment=no_attachment) == 1
    assert [m["Subject"] for m in mailbox.to(address)] == ["Afvist: Robotter"]
