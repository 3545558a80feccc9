"""Tables of the catalogue domain."""

from datetime import date, datetime
from datetime import time as time_of_day
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
)
from sqlmodel import Field, SQLModel

from app.db import StrEnumType, UTCDateTime, one_of, utcnow


class OfferType(StrEnum):
    company_week = "company_week"
    innovation_game = "innovation_game"
    girls_day = "girls_day"
    expert = "expert"
    mentoring = "mentoring"
    course = "course"


class Theme(StrEnum):
    food = "food"
    climate_energy = "climate_energy"
    industry = "industry"
    ict = "ict"
    health = "health"


class Subject(StrEnum):
    maths = "maths"
    physics_chemistry = "physics_chemistry"
    biology = "biology"
    nature_technology = "nature_technology"
    technology_understanding = "technology_understanding"
    informatics = "informatics"


class OfferFormat(StrEnum):
    at_provider = "at_provider"
    at_school = "at_school"
    online = "online"


class OfferStatus(StrEnum):
    draft = "draft"
    published = "published"
    unpublished = "unpublished"
    archived = "archived"


# Grades: 0-10 are grundskole (0. klasse to 10. klasse), 11-13 the three years of upper secondary.
GRADE_MIN, GRADE_MAX = 0, 13



class Offer(SQLModel, table=True):
    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(one_of("type", OfferType), name="type"),
        CheckConstraint(one_of("format", OfferFormat), name="format"),
        CheckConstraint(one_of("status", OfferStatus), name="status"),
        CheckConstraint(
            f"grade_min >= {GRADE_MIN} AND grade_min <= grade_max AND grade_max <= {GRADE_MAX}",
            name="grades",
        ),
        # Not led by status: nearly every offer is published, and SQLite would read them all
        # through such an index, row by row, instead of scanning the table.
        Index("ix_offers_type", "type"),
        Index("ix_offers_municipality", "municipality"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="organisations.id", index=True)
    type: OfferType = Field(sa_type=StrEnumType(OfferType))
    status: OfferStatus = Field(default=OfferStatus.draft, sa_type=StrEnumType(OfferStatus))
    title: str = Field(sa_type=String(200))
    summary: str = Field(default="", sa_type=String(500))
    # Markdown; rendered without raw HTML (see catalogue.text).
    description: str = Field(default="", sa_type=Text())
    grade_min: int
    grade_max: int
    format: OfferFormat = Field(default=OfferFormat.at_provider, sa_type=StrEnumType(OfferFormat))
    is_long: bool = False  # a long course: several days or sessions
    # The offer's dates are one course: a class books all of them (those still to come), never one.
    all_dates_together: bool = False
    girls_only: bool = False
    address: str = Field(default="", sa_type=String(300))
    municipality: str = Field(sa_type=String(40))
    latitude: float | None = None
    longitude: float | None = None
    language: str = Field(default="da", sa_type=String(5))
    pupils_bring: str = Field(default="", sa_type=String(1000))
    accessibility: str = Field(default="", sa_type=String(1000))
    contact_name: str = Field(default="", sa_type=String(200))
    contact_email: str = Field(default="", sa_type=String(254))
    contact_phone: str = Field(default="", sa_type=String(30))
    requires_approval: bool = True
    # Waiting list: may a later class that fits pass the head of the list that does not?
    waitlist_may_pass: bool = True
    # How long a freed place offered to a waiting class is held for it.
    waitlist_offer_hours: int = Field(default=48, ge=1)
    # How many weekdays before a session a teacher may still cancel without a reason.
    cancellation_weekdays: int = Field(default=10, ge=0)
    min_pupils: int | None = None
    max_pupils: int | None = None
    # On-request offers (book an expert): no sessions, but a lead time and a weekly maximum.
    lead_days: int | None = None
    max_visits_per_week: int | None = None
    # Bumped on every new picture, so its address changes and caches can keep it for a long time.
    picture_version: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime())

    @property
    def on_request(self) -> bool:
        return self.type == OfferType.expert


class OfferTheme(SQLModel, table=True):
    __tablename__ = "offer_themes"
    __table_args__ = (
        CheckConstraint(one_of("theme", Theme), name="theme"),
        Index("ix_offer_themes_theme_offer_id", "theme", "offer_id"),
    )

    offer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True)
    )
    theme: Theme = Field(sa_type=StrEnumType(Theme), primary_key=True)


class OfferSubject(SQLModel, table=True):
    __tablename__ = "offer_subjects"
    __table_args__ = (
        CheckConstraint(one_of("subject", Subject), name="subject"),
        Index("ix_offer_subjects_subject_offer_id", "subject", "offer_id"),
    )

    offer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True)
    )
    subject: Subject = Field(sa_type=StrEnumType(Subject, 30), primary_key=True)


class OfferPicture(SQLModel, table=True):
    """An offer's picture, kept apart so that listing offers never loads image bytes."""

    __tablename__ = "offer_pictures"

    offer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True)
    )
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    content_type: str = Field(sa_type=String(40))
    alt_text: str = Field(default="", sa_type=String(300))


class OfferSession(SQLModel, table=True):
    """One date (afholdelse) of an offer, possibly several days long, with its capacity."""

    __tablename__ = "offer_sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity_pupils > 0", name="capacity_pupils_positive"),
        CheckConstraint(
            "capacity_classes IS NULL OR capacity_classes > 0", name="capacity_classes_positive"
        ),
        CheckConstraint("mentors_min >= 0 AND mentors_max >= mentors_min", name="mentors"),
        # Covering the catalogue's next-date look-ups (cancelled_at included), so they read no rows.
        Index("ix_offer_sessions_offer_id_starts_at", "offer_id", "starts_at", "cancelled_at"),
        Index("ix_offer_sessions_starts_at", "starts_at", "cancelled_at", "offer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("offers.id", ondelete="CASCADE"), nullable=False)
    )
    starts_at: datetime = Field(sa_type=UTCDateTime())
    ends_at: datetime = Field(sa_type=UTCDateTime())
    capacity_pupils: int
    capacity_classes: int | None = None
    booking_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # Sessions made from one recurrence rule share its id, so they can be shown and changed together.
    series: str | None = Field(default=None, sa_type=String(36), index=True)
    note: str = Field(default="", sa_type=String(500))
    # A mentoring date: how many youth-to-youth mentors it needs, and takes at most (else 0, 0).
    mentors_min: int = 0
    mentors_max: int = 0
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class SchoolHoliday(SQLModel, table=True):
    """A school holiday (or other blackout period); for one municipality, or all when none."""

    __tablename__ = "school_holidays"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100))
    municipality: str | None = Field(default=None, sa_type=String(40), index=True)
    starts_on: date = Field(sa_column=Column(Date, nullable=False, index=True))
    ends_on: date = Field(sa_column=Column(Date, nullable=False))


class SavedSearch(SQLModel, table=True):
    """A teacher's catalogue search, e-mailed about when a new offer that matches is published."""

    __tablename__ = "saved_searches"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(sa_type=String(200))
    # The catalogue's query string, e.g. "type=girls_day&grade=8".
    query: str = Field(sa_type=String(1000))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class ResourceKind(StrEnum):
    person = "person"
    room = "room"
    equipment = "equipment"


RESOURCE_NAME_MAX_LENGTH = 200


class Resource(SQLModel, table=True):
    """A person, room or piece of equipment a provider uses in its sessions; never in two at once."""

    __tablename__ = "resources"
    __table_args__ = (CheckConstraint(one_of("kind", ResourceKind), name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="organisations.id", index=True)
    name: str = Field(sa_type=String(RESOURCE_NAME_MAX_LENGTH))
    kind: ResourceKind = Field(sa_type=StrEnumType(ResourceKind))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class SessionResource(SQLModel, table=True):
    __tablename__ = "session_resources"
    __table_args__ = (Index("ix_session_resources_resource_id", "resource_id"),)

    session_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("offer_sessions.id", ondelete="CASCADE"), primary_key=True
        )
    )
    resource_id: int = Field(
        sa_column=Column(Integer, ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    )


class OfferResource(SQLModel, table=True):
    """A resource an on-request offer uses on every visit (e.g. the expert who goes)."""

    __tablename__ = "offer_resources"

    offer_id: int = Field(sa_column=Column(Integer, ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True))
    resource_id: int = Field(sa_column=Column(Integer, ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True))


class AvailabilityWindow(SQLModel, table=True):
    """When an on-request offer's expert can visit: a weekday and hours, within a period."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("ends > starts", name="ends_after_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("offers.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    weekday: int
    starts: time_of_day = Field(sa_column=Column(Time, nullable=False))
    ends: time_of_day = Field(sa_column=Column(Time, nullable=False))


class OfferTravelArea(SQLModel, table=True):
    """A municipality an on-request offer's expert travels to."""

    __tablename__ = "offer_travel_areas"

    offer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True)
    )
    municipality: str = Field(sa_type=String(40), primary_key=True)
