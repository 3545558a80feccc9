"""Evaluations: one shared question set per kind of activity, asked of a booking's teacher, the
provider's staff and the visit's mentors once the activity is completed. The set is versioned by
its questions: a question is never changed in place; rewording retires it and adds its successor,
so every answer stays with the wording it answered."""

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
)
from sqlmodel import Field, SQLModel

from app.catalogue.models import OfferType
from app.db import StrEnumType, UTCDateTime, one_of


class QuestionKind(StrEnum):
    scale = "scale"  # 1 (poor) to 5 (very good)
    yes_no = "yes_no"
    text = "text"  # free text, optional to answer
    class_poll = "class_poll"  # counts only: girls and boys of the class, never names


class Respondent(StrEnum):
    teacher = "teacher"
    provider = "provider"
    mentor = "mentor"


class Question(SQLModel, table=True):
    __tablename__ = "evaluation_questions"
    __table_args__ = (
        CheckConstraint(one_of("offer_type", OfferType), name="offer_type"),
        CheckConstraint(one_of("kind", QuestionKind), name="kind"),
        Index("ix_evaluation_questions_offer_type_retired_at", "offer_type", "retired_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    offer_type: OfferType = Field(sa_type=StrEnumType(OfferType))
    kind: QuestionKind = Field(sa_type=StrEnumType(QuestionKind, 20))
    # The wording in Danish, and in English for those who read the portal in English.
    text_da: str = Field(sa_type=String(300))
    text_en: str = Field(sa_type=String(300))
    position: int = 0
    # The question this one rewords, whose answers stay with the old wording.
    replaces_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("evaluation_questions.id", ondelete="SET NULL"))
    )
    created_at: datetime = Field(sa_type=UTCDateTime())
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class EvaluationRequest(SQLModel, table=True):
    """One person asked about one booking: the single-use link (its hash), when it was sent and
    the reminder, and when it was answered. At most one answer per person per booking."""

    __tablename__ = "evaluation_requests"
    __table_args__ = (
        CheckConstraint(one_of("respondent", Respondent), name="respondent"),
        UniqueConstraint("booking_id", "user_id", name="one_per_person"),
    )

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(
        sa_column=Column(Integer, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    )
    respondent: Respondent = Field(sa_type=StrEnumType(Respondent, 10))
    token_hash: str = Field(sa_type=String(64), unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime())
    sent_at: datetime = Field(sa_type=UTCDateTime())
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class Answer(SQLModel, table=True):
    """One answer to one question (of the wording then asked)."""

    __tablename__ = "evaluation_answers"

    request_id: int = Field(
        sa_column=Column(Integer, ForeignKey("evaluation_requests.id", ondelete="CASCADE"), primary_key=True)
    )
    question_id: int = Field(
        sa_column=Column(Integer, ForeignKey("evaluation_questions.id", ondelete="CASCADE"), primary_key=True, index=True)
    )
    score: int | None = Field(default=None)  # scale 1-5, or yes (1) / no (0)
    text: str | None = Field(default=None, sa_type=Text())
    girls: int | None = None  # a class poll's counts
    boys: int | None = None
