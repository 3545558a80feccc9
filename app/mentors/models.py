"""A mentor's profile beside their user account: where they study, what they can mentor in, where
they can go, and how far their sign-up has come (a guardian's consent, their institution's
approval). Minors' data is the least that works: schools never see the birth date or e-mail."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from app.catalogue.models import Theme
from app.db import StrEnumType, UTCDateTime, one_of


class MentorStatus(StrEnum):
    awaiting_consent = "awaiting_consent"  # under the consent age: a guardian has not said yes
    awaiting_approval = "awaiting_approval"  # their institution's staff or a coordinator decides
    approved = "approved"  # may take shifts
    rejected = "rejected"
    paused = "paused"
    retired = "retired"


class MentorProfile(SQLModel, table=True):
    __tablename__ = "mentor_profiles"
    __table_args__ = (CheckConstraint(one_of("status", MentorStatus), name="status"),)

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    # An upper-secondary school, or a university or college (a provider of that kind).
    institution_id: int = Field(foreign_key="organisations.id", index=True)
    # Given at sign-up; optional for a mentor a coordinator registers (and vouches for).
    birth_date: date | None = None
    study_programme: str = Field(default="", sa_type=String(200))
    finishing_year: int | None = None
    # "Why I chose STEM", shown to classes only when the mentor chooses to.
    why_stem: str = Field(default="", sa_type=Text())
    show_why_stem: bool = False
    guardian_email: str | None = Field(default=None, sa_type=String(254))
    status: MentorStatus = Field(sa_type=StrEnumType(MentorStatus, 20))
    # Why they were rejected or paused, told to the mentor; who decided last, and when.
    status_reason: str = Field(default="", sa_type=String(500))
    decided_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    )
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # The e-mail address is proved by a link; the code of conduct's version they accepted, and when.
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    conduct_version: str = Field(default="", sa_type=String(20))
    conduct_accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # Since when they are paused: after six months a new child-certificate assessment is needed.
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = Field(sa_type=UTCDateTime())
    updated_at: datetime = Field(sa_type=UTCDateTime())


class MentorTheme(SQLModel, table=True):
    __tablename__ = "mentor_themes"
    __table_args__ = (CheckConstraint(one_of("theme", Theme), name="theme"),)

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    theme: Theme = Field(sa_type=StrEnumType(Theme), primary_key=True)


class MentorMunicipality(SQLModel, table=True):
    """A municipality the mentor can reach for a visit."""

    __tablename__ = "mentor_municipalities"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    municipality: str = Field(sa_type=String(40), primary_key=True)


class GuardianConsent(SQLModel, table=True):
    """A parent's or guardian's consent for a minor mentor: who gave it, when, and to which version
    of the text they read, kept as proof; and when it was withdrawn."""

    __tablename__ = "guardian_consents"

    id: int | None = Field(default=None, primary_key=True)
    mentor_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    guardian_name: str = Field(sa_type=String(200))
    guardian_email: str = Field(sa_type=String(254))
    text_version: str = Field(sa_type=String(20))
    consented_at: datetime = Field(sa_type=UTCDateTime())
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class ChildCertificateCheck(SQLModel, table=True):
    """That a mentor's child certificate (børneattest) was assessed, by whom and until when it
    holds. Never the certificate itself, nor a CPR number: the institution keeps those."""

    __tablename__ = "child_certificate_checks"

    id: int | None = Field(default=None, primary_key=True)
    mentor_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    assessed_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    )
    assessed_on: date = Field(sa_column=Column(Date, nullable=False))
    valid_until: date = Field(sa_column=Column(Date, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime())


class ShiftStatus(StrEnum):
    signed_up = "signed_up"  # holds one of the date's mentor places
    left = "left"  # the mentor left it
    removed = "removed"  # the provider's staff took the mentor off
    completed = "completed"  # the date is over; its hours count


class Shift(SQLModel, table=True):
    """A mentor on one mentoring date. After the date it keeps the hours; when the mentor deletes
    their account, past shifts stay without them (mentor_id empty) as hours for the statistics."""

    __tablename__ = "shifts"
    __table_args__ = (
        CheckConstraint(one_of("status", ShiftStatus), name="status"),
        CheckConstraint("travel_minutes BETWEEN 0 AND 600", name="travel_minutes"),
        # One place per mentor and date, however often the sign-up arrives.
        Index(
            "ux_shifts_session_id_mentor_id_signed_up",
            "session_id",
            "mentor_id",
            unique=True,
            sqlite_where=text("status IN ('signed_up', 'completed')"),
            postgresql_where=text("status IN ('signed_up', 'completed')"),
        ),
        Index("ix_shifts_mentor_id_status", "mentor_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(
        sa_column=Column(Integer, ForeignKey("offer_sessions.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    mentor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    )
    status: ShiftStatus = Field(sa_type=StrEnumType(ShiftStatus, 20))
    # Who put the mentor on the date: themselves, or the provider's staff.
    assigned_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    )
    # Travel the mentor adds to the date's length; counted once the provider's staff confirm it.
    travel_minutes: int = 0
    travel_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # The hours it counts, in minutes, set when it is completed.
    minutes: int | None = None
    leave_reason: str = Field(default="", sa_type=String(500))
    reminded_week_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    reminded_day_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = Field(sa_type=UTCDateTime())
    updated_at: datetime = Field(sa_type=UTCDateTime())


class MentorShortageAlert(SQLModel, table=True):
    """A date still short of mentors that the provider and coordinators were told of (once)."""

    __tablename__ = "mentor_shortage_alerts"

    session_id: int = Field(
        sa_column=Column(Integer, ForeignKey("offer_sessions.id", ondelete="CASCADE"), primary_key=True)
    )
    alerted_at: datetime = Field(sa_type=UTCDateTime())
