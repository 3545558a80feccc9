"""Tables of the bookings domain."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import StrEnumType, UTCDateTime, utcnow


class BookingStatus(StrEnum):
    pending = "pending"  # awaits approval; holds its seats until its approval deadline
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    offered = "offered"  # a waiting-list place held for the teacher until it expires
    declined = "declined"
    cancelled = "cancelled"
    expired = "expired"
    completed = "completed"


def _in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum)})"


class Booking(SQLModel, table=True):
    """One class of one school in one session."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(_in("status", BookingStatus), name="status"),
        CheckConstraint("pupils > 0", name="pupils_positive"),
        CheckConstraint("girls IS NULL OR (girls >= 0 AND girls <= pupils)", name="girls_within_pupils"),
        CheckConstraint("adults >= 0", name="adults_not_negative"),
        # The same key from the same teacher names one booking: a double click books once.
        UniqueConstraint("teacher_id", "idempotency_key", name="uq_bookings_teacher_id_idempotency_key"),
        Index("ix_bookings_session_id_status", "session_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=Column(Integer, ForeignKey("offer_sessions.id"), nullable=False))
    school_id: int = Field(foreign_key="organisations.id", index=True)
    teacher_id: int = Field(foreign_key="users.id", index=True)
    status: BookingStatus = Field(sa_type=StrEnumType(BookingStatus))
    class_name: str = Field(sa_type=String(50))
    grade: int
    pupils: int
    girls: int | None = None
    adults: int = 1
    needs: str = Field(default="", sa_type=String(1000))
    contact_phone: str = Field(default="", sa_type=String(30))
    # Until when a pending booking (or an offered waiting-list place) holds its seats.
    hold_until: datetime | None = Field(default=None, sa_type=UTCDateTime())
    late_cancellation: bool = False
    reason: str = Field(default="", sa_type=String(1000))
    idempotency_key: str | None = Field(default=None, sa_type=String(100))
    request_hash: str | None = Field(default=None, sa_type=String(64))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class BookingEvent(SQLModel, table=True):
    """Every change of a booking's state: who, when, why."""

    __tablename__ = "booking_events"

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(sa_column=Column(Integer, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True))
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    from_status: BookingStatus | None = Field(default=None, sa_type=StrEnumType(BookingStatus))
    to_status: BookingStatus = Field(sa_type=StrEnumType(BookingStatus))
    reason: str = Field(default="", sa_type=String(1000))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
