"""Tables of the bookings domain."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from app.catalogue.models import OfferType
from app.db import StrEnumType, UTCDateTime, one_of, utcnow

# The length of a reason (why a booking or a proposed visit was cancelled or declined; a provider's
# note with another time): its columns', checked by the rules (bookings.service, bookings.expert)
# so that pages, API and command line refuse a longer one alike.
REASON_MAX_LENGTH = 1000


class BookingStatus(StrEnum):
    pending = "pending"  # awaits approval; holds its seats until its approval deadline
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    offered = "offered"  # a waiting-list place held for the teacher until it expires
    declined = "declined"
    cancelled = "cancelled"
    expired = "expired"
    completed = "completed"



class Booking(SQLModel, table=True):
    """One class of one school in one session."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(one_of("status", BookingStatus), name="status"),
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
    reason: str = Field(default="", sa_type=String(REASON_MAX_LENGTH))
    # A request collected by a fair allocation round, its place in the round's draw, and what the
    # teacher is told about how the round treated it.
    round_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("allocation_rounds.id", ondelete="SET NULL"), index=True)
    )
    queue_rank: int | None = None
    allocation_note: str = Field(default="", sa_type=String(500))
    # A long course whose dates go together (Offer.all_dates_together) is booked as one: a row per date, each
    # pointing at the first date's row (which points at itself). They are booked in one
    # transaction or not at all, and decided and cancelled together.
    course_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    )
    idempotency_key: str | None = Field(default=None, sa_type=String(100))
    request_hash: str | None = Field(default=None, sa_type=String(64))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())

    @property
    def in_draw(self) -> bool:
        """A request of an allocation round the draw has not ranked yet: it waits for the draw,
        not in a queue, so it has no place on the waiting list."""
        return self.status == BookingStatus.waitlisted and self.round_id is not None and self.queue_rank is None

    def shown_state(self, session_cancelled: bool) -> str:
        """The state as people read it (a label code): "in_draw"; "called_off" for a booking
        cancelled because the provider called its date off (aflyst, not afbestilt); else the status."""
        if self.in_draw:
            return "in_draw"
        if self.status == BookingStatus.cancelled and session_cancelled:
            return "called_off"
        return str(self.status)


class BookingEvent(SQLModel, table=True):
    """Every change of a booking's state: who, when, why.

    A new booking's first event is also the record that its teacher and provider are still to be
    told (`told_at` empty): the worker writes those messages, so a booking's transaction, which
    runs while others wait for the session's lock, writes no more than the booking and its event."""

    __tablename__ = "booking_events"
    __table_args__ = (
        Index("ix_booking_events_untold", "id", sqlite_where=text("told_at IS NULL"), postgresql_where=text("told_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(sa_column=Column(Integer, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True))
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    from_status: BookingStatus | None = Field(default=None, sa_type=StrEnumType(BookingStatus))
    to_status: BookingStatus = Field(sa_type=StrEnumType(BookingStatus))
    reason: str = Field(default="", sa_type=String(REASON_MAX_LENGTH))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    told_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class BookingReminder(SQLModel, table=True):
    """A reminder or request a booking has had, so each goes out once (the key makes two workers
    that run at the same time agree)."""

    __tablename__ = "booking_reminders"

    booking_id: int = Field(sa_column=Column(Integer, ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True))
    kind: str = Field(sa_type=String(30), primary_key=True)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class CapacityPool(SQLModel, table=True):
    """A limit shared by several sessions of one provider, e.g. "at most 6 classes a week" or
    "Girls Day: 400 girls in total". A booking must fit every pool its session is in."""

    __tablename__ = "capacity_pools"
    __table_args__ = (
        CheckConstraint("capacity_pupils IS NULL OR capacity_pupils > 0", name="pupils_positive"),
        CheckConstraint("capacity_classes IS NULL OR capacity_classes > 0", name="classes_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="organisations.id", index=True)
    name: str = Field(sa_type=String(200))
    capacity_pupils: int | None = None
    capacity_classes: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class CapacityPoolSession(SQLModel, table=True):
    __tablename__ = "capacity_pool_sessions"

    pool_id: int = Field(sa_column=Column(Integer, ForeignKey("capacity_pools.id", ondelete="CASCADE"), primary_key=True))
    session_id: int = Field(
        sa_column=Column(Integer, ForeignKey("offer_sessions.id", ondelete="CASCADE"), primary_key=True, index=True)
    )


class SchoolCap(SQLModel, table=True):
    """At most this many bookings per school of one offer type in one school year (August to
    July), set by a coordinator for their municipality or (municipality empty) for the region."""

    __tablename__ = "school_caps"
    __table_args__ = (
        UniqueConstraint("offer_type", "school_year", "municipality", name="uq_school_caps_scope"),
        CheckConstraint("max_bookings >= 0", name="max_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    offer_type: OfferType = Field(sa_type=StrEnumType(OfferType))
    school_year: int  # the calendar year the school year begins in
    municipality: str | None = Field(default=None, sa_type=String(40))
    max_bookings: int
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class RoundStatus(StrEnum):
    open = "open"  # collecting requests until closes_at
    allocated = "allocated"


class AllocationRound(SQLModel, table=True):
    """Fair allocation for a high-demand offer: requests are collected until `closes_at`, then
    seats are allocated in one seeded, reproducible, logged run."""

    __tablename__ = "allocation_rounds"
    __table_args__ = (
        CheckConstraint(one_of("status", RoundStatus), name="status"),
        # At most one open round per offer, whatever the application does.
        Index(
            "uq_allocation_rounds_one_open",
            "offer_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(sa_column=Column(Integer, ForeignKey("offers.id", ondelete="CASCADE"), nullable=False, index=True))
    opened_by: int | None = Field(default=None, foreign_key="users.id")
    closes_at: datetime = Field(sa_type=UTCDateTime())
    seed: str = Field(sa_type=String(64))
    status: RoundStatus = Field(default=RoundStatus.open, sa_type=StrEnumType(RoundStatus))
    allocated_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    log: str = Field(default="", sa_type=Text())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class ProposalStatus(StrEnum):
    proposed = "proposed"  # the teacher proposed a time; the provider answers
    counter_proposed = "counter_proposed"  # the provider proposed another time; the teacher answers
    accepted = "accepted"  # became a booking
    declined = "declined"
    withdrawn = "withdrawn"


class ExpertProposal(SQLModel, table=True):
    """Book an expert: the teacher proposes a time for a visit; the provider accepts (it becomes a
    booking that needs the usual approval), declines with a reason, or proposes another time."""

    __tablename__ = "expert_proposals"
    __table_args__ = (
        CheckConstraint(one_of("status", ProposalStatus), name="status"),
        CheckConstraint("pupils > 0", name="pupils_positive"),
        CheckConstraint("girls IS NULL OR (girls >= 0 AND girls <= pupils)", name="girls_within_pupils"),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
    )

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(sa_column=Column(Integer, ForeignKey("offers.id", ondelete="CASCADE"), nullable=False, index=True))
    school_id: int = Field(foreign_key="organisations.id", index=True)
    teacher_id: int = Field(foreign_key="users.id")
    status: ProposalStatus = Field(default=ProposalStatus.proposed, sa_type=StrEnumType(ProposalStatus))
    starts_at: datetime = Field(sa_type=UTCDateTime())
    ends_at: datetime = Field(sa_type=UTCDateTime())
    class_name: str = Field(sa_type=String(50))
    grade: int
    pupils: int
    girls: int | None = None
    adults: int = 1
    needs: str = Field(default="", sa_type=String(1000))
    contact_phone: str = Field(default="", sa_type=String(30))
    message: str = Field(default="", sa_type=String(1000))
    reason: str = Field(default="", sa_type=String(REASON_MAX_LENGTH))
    booking_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("bookings.id", ondelete="SET NULL"))
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
