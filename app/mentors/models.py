"""A mentor's profile beside their user account: where they study, what they can mentor in, where
they can go, and how far their sign-up has come (a guardian's consent, their institution's
approval). Minors' data is the least that works: schools never see the birth date or e-mail."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Text
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
