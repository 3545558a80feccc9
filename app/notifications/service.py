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
from app.db import begin_write
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
        db.add(
            OutboxMessage(
                to_address=user.email,
                subject=subject,
                body=text,
                booking_id=booking_id,
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


def send_outbox(
    db: Session, settings: Settings, *, now: datetime, attachment: Attachment, limit: int = 50
) -> int:
    """Send what is due in the outbox; returns how many went out. Several workers may run at once:
    each claims its messages with FOR UPDATE SKIP LOCKED (SQLite has one writer anyway)."""
    begin_write(db)
    due = db.exec(
        select(OutboxMessage)
        .where(
            col(OutboxMessage.sent_at).is_(None),
            OutboxMessage.send_after <= now,
            OutboxMessage.attempts < MAX_ATTEMPTS,
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for message in due:
        try:
            deliver(
                settings,
                to=message.to_address,
                subject=message.subject,
                body=message.body,
                calendar=attachment(db, message),
            )
        except MailError as error:
            message.attempts += 1
            message.last_error = str(error)[:1000]
            message.send_after = now + min(
                timedelta(minutes=2 ** (message.attempts - 1)), MAX_BACKOFF
            )
            log.warning(
                "E-mail %s to %s not sent (attempt %d): %s",
                message.id,
                message.to_address,
                message.attempts,
                error,
            )
        else:
            message.sent_at = now
            sent += 1
        db.add(message)
    db.commit()
    return sent


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
    the mail server or an address was mended; returns how many."""
    query = update(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None), OutboxMessage.attempts > 0)
    if message_id is not None:
        query = query.where(OutboxMessage.id == message_id)
    count = db.exec(query.values(attempts=0, send_after=now)).rowcount
    db.commit()
    return count
