"""Tables of notifications: the in-portal inbox and the outbox e-mail is sent from."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    """One message in a user's in-portal inbox."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_created_at", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(sa_type=String(40))
    subject: str = Field(sa_type=String(300))
    body: str = Field(sa_type=Text())
    link: str = Field(default="", sa_type=String(300))
    booking_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("bookings.id", ondelete="SET NULL"))
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class OutboxMessage(SQLModel, table=True):
    """An e-mail written in the same transaction as the change it tells about, and sent later by
    the worker (`python -m app worker`): a slow or absent mail server never slows or undoes a
    booking, and nothing is lost when the app stops."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_sent_at_send_after", "sent_at", "send_after"),)

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(sa_type=String(254))
    subject: str = Field(sa_type=String(300))
    body: str = Field(sa_type=Text())
    # A booking e-mail carries the activity's calendar file, made when it is sent.
    booking_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("bookings.id", ondelete="SET NULL"))
    )
    # Any other message's calendar file, made when it was written (a mentor's shift reminder).
    calendar: str | None = Field(default=None, sa_type=Text())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    # Not before then: the first attempt, the next after a failure, or (while a worker sends it)
    # the end of that worker's claim (notifications.service.send_outbox).
    send_after: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    attempts: int = 0
    last_error: str = Field(default="", sa_type=String(1000))
