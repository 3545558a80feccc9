"""Notifications: every message goes to the user's in-portal inbox and, through the outbox, to
their e-mail. `notify` writes both in the caller's transaction, so a message exists exactly when
the change it tells about was committed; `send_outbox` (run by the worker) delivers the e-mail."""

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.config import Settings
from app.db import begin_write, utcnow
from app.notifications.mail import MailError, deliver
from app.notifications.models import Notification, OutboxMessage

log = logging.getLogger(__name__)

# After a failed attempt, wait 1, 2, 4 ... minutes, at most six hours, and give up after a week's
# worth of attempts (the message stays in the outbox with its last error, for an administrator).
MAX_ATTEMPTS = 40
MAX_BACKOFF = timedelta(hours=6)


def notify(
    db: Session,
    user: User,
    *,
    kind: str,
    subject: str,
    body: str,
    now: datetime,
    link: str = "",
    booking_id: int | None = None,
    base_url: str,
    email: bool = True,
    calendar: bytes | None = None,
) -> None:
    """Put a message in the user's inbox and (unless `email` is False) queue it as e-mail. The
    caller writes subject and body in the user's language and commits."""
    db.add(
        Notification(
            user_id=user.id,
            kind=kind,
            subject=subject,
            body=body,
            link=link,
            booking_id=booking_id,
            created_at=now,
        )
    )
    if email and user.is_active:
        text = f"{body}\n\n{base_url}{link}\n" if link else body
        queue_email(db, to=user.email, subject=subject, body=text, now=now, booking_id=booking_id, calendar=calendar)


def queue_email(
    db: Session,
    *,
    to: str,
    subject: str,
    body: str,
    now: datetime,
    booking_id: int | None = None,
    calendar: bytes | None = None,
) -> None:
    """An e-mail for the worker to send, written in the caller's transaction (which commits). A
    booking's e-mail gets its calendar file when it is sent; another can carry one made now."""
    db.add(
        OutboxMessage(
            to_address=to,
            subject=subject,
            body=body,
            booking_id=booking_id,
            calendar=calendar.decode() if calendar else None,
            created_at=now,
            send_after=now,
        )
    )


def inbox(
    db: Session, user: User, *, limit: int = 50, offset: int = 0
) -> tuple[Sequence[Notification], int]:
    query = select(Notification).where(Notification.user_id == user.id)
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    items = db.exec(
        query.order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return items, total


def unread_count(db: Session, user: User) -> int:
    return db.exec(
        select(func.count()).where(
            Notification.user_id == user.id, col(Notification.read_at).is_(None)
        )
    ).one()


def mark_read(
    db: Session, user: User, *, now: datetime, notification_id: int | None = None
) -> None:
    """Mark one of the user's messages (or all of them) read."""
    statement = update(Notification).where(
        col(Notification.user_id) == user.id, col(Notification.read_at).is_(None)
    )
    if notification_id is not None:
        statement = statement.where(col(Notification.id) == notification_id)
    db.exec(statement.values(read_at=now))
    db.commit()


Attachment = Callable[[Session, OutboxMessage], bytes | None]

# How long a worker holds a message it is sending (see send_outbox). An SMTP conversation is about
# ten exchanges (connect, EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA, the message, QUIT), each
# allowed mail.SMTP_TIMEOUT seconds, so even a mail server that answers each just in time is done in
# under three minutes; five leave room for that. The cost of a longer lease: a message whose
# worker died mid-send waits this long for its next attempt.
CLAIM_LEASE = timedelta(minutes=5)


def send_outbox(
    db: Session, settings: Settings, *, now: datetime, attachment: Attachment, limit: int = 50
) -> int:
    """Send what is due in the outbox, at most `limit` messages; returns how many went out.

    No transaction is open while the mail server is talked to, however slow it is (on SQLite a
    write transaction would hold the database's only write lock, and bookings would wait for it).
    Each message is claimed in a short transaction of its own, which moves its `send_after` on by
    CLAIM_LEASE (`_claim_next`); then its calendar file is read and it is sent, outside any
    transaction; then the result is written in another short transaction. One message at a time,
    so a claim never runs out while earlier messages of the same pass are still being sent.

    Several workers may run at once: a claimed message is not due for the others (PostgreSQL's
    FOR UPDATE SKIP LOCKED lets them claim other messages meanwhile; SQLite has one writer). A
    worker that dies mid-send leaves its message claimed, and it is tried again when the claim runs
    out: no message is lost. It goes out twice only if its worker dies (or loses the database)
    after the mail server took it and before the result was written, or if a mail server slower
    than CLAIM_LEASE allows still had it when the claim ran out."""
    sent = 0
    for _ in range(limit):
        message = _claim_next(db, now=now)
        if message is None:
            break
        try:
            calendar = message.calendar.encode() if message.calendar else attachment(db, message)
            db.rollback()  # end the attachment's reads: nothing stays open while SMTP talks
            deliver(
                settings,
                to=message.to_address,
                subject=message.subject,
                body=message.body,
                calendar=calendar,
            )
        except MailError as error:
            _record_failure(db, message, str(error), now=now)
            log.warning(
                "E-mail %s to %s not sent (attempt %d): %s",
                message.id,
                message.to_address,
                message.attempts + 1,
                error,
            )
        except Exception as error:
            # A message that cannot even be written (its calendar file, its headers) fails like
            # one the mail server refused: shown to the secretariat and retried with back-off,
            # instead of coming back unseen after each claim and stopping the pass every time.
            db.rollback()
            _record_failure(db, message, f"{type(error).__name__}: {error}", now=now)
            log.exception("E-mail %s to %s could not be made", message.id, message.to_address)
        else:
            _record_sent(db, message, now=now)
            sent += 1
    return sent


def _claim_next(db: Session, *, now: datetime) -> OutboxMessage | None:
    """Claim the oldest message due at `now` for CLAIM_LEASE, in a transaction of its own; returns
    a copy of it, detached from the session, whose `send_after` (the claim's end) identifies the
    claim. A claimed message keeps `attempts` as it was, so it looks neither failed nor overdue."""
    # The lease counts from the moment of the claim, which may be minutes after `now` when earlier
    # messages of the pass were slow (and is `now` itself when a test's `now` lies ahead).
    lease_until = max(now, utcnow()) + CLAIM_LEASE
    begin_write(db)
    message = db.exec(
        select(OutboxMessage)
        .where(
            col(OutboxMessage.sent_at).is_(None),
            OutboxMessage.send_after <= now,
            OutboxMessage.attempts < MAX_ATTEMPTS,
        )
        .order_by(col(OutboxMessage.id))
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()
    claimed = None
    if message is not None:
        message.send_after = lease_until
        db.add(message)
        # Not the session's object, which the commit expires: reading it again would open a
        # transaction, and that one would stay open while the message is sent.
        claimed = OutboxMessage(**message.model_dump())
    db.commit()
    return claimed


def _record_sent(db: Session, message: OutboxMessage, *, now: datetime) -> None:
    begin_write(db)
    done = db.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message.id, col(OutboxMessage.sent_at).is_(None))
        .values(sent_at=now)
    ).rowcount
    db.commit()
    if not done:
        log.warning("E-mail %s to %s was sent twice (its claim ran out)", message.id, message.to_address)


def _record_failure(db: Session, message: OutboxMessage, error: str, *, now: datetime) -> None:
    """Count the failed attempt and set the next one after the back-off, unless the claim is no
    longer ours: then another worker has the message, or the secretariat gave it a fresh start
    (send_again), and what they decide stands."""
    attempts = message.attempts + 1
    begin_write(db)
    db.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message.id,
            col(OutboxMessage.sent_at).is_(None),
            OutboxMessage.send_after == message.send_after,
        )
        .values(
            attempts=attempts,
            last_error=error[:1000],
            send_after=now + min(timedelta(minutes=2 ** (attempts - 1)), MAX_BACKOFF),
        )
    )
    db.commit()


def undelivered(db: Session, *, limit: int = 200) -> list[OutboxMessage]:
    """E-mails not sent after at least one attempt, oldest first: those waiting for their next
    attempt and those the worker gave up on (MAX_ATTEMPTS)."""
    return list(
        db.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.sent_at).is_(None), OutboxMessage.attempts > 0)
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        ).all()
    )


def latest(db: Session, *, limit: int = 50) -> list[OutboxMessage]:
    """The outbox's newest messages, sent or not, the newest first (the development mail page)."""
    return list(db.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)).all())


# The worker looks at the outbox every few seconds: an e-mail this old that it has not tried yet
# means the worker is not running.
OVERDUE = timedelta(minutes=10)


def overdue(db: Session, *, now: datetime) -> int:
    """How many e-mails have waited longer than OVERDUE for their first attempt."""
    query = select(func.count()).where(
        col(OutboxMessage.sent_at).is_(None), OutboxMessage.attempts == 0, OutboxMessage.send_after < now - OVERDUE
    )
    return db.exec(query).one()


def send_again(db: Session, *, now: datetime, message_id: int | None = None) -> int:
    """Give one undelivered e-mail (or all of them) a fresh round of attempts from now, e.g. after
    the mail server or an address was mended; returns how many. This also ends the claim on one a
    worker is retrying at that moment: with several workers, another may then send it as well."""
    query = update(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None), OutboxMessage.attempts > 0)
    if message_id is not None:
        query = query.where(OutboxMessage.id == message_id)
    count = db.exec(query.values(attempts=0, send_after=now)).rowcount
    db.commit()
    return count
