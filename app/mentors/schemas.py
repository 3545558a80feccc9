"""What a mentor sends to sign up, and what the API answers."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool

from app.accounts.schemas import DbId, Email, Form, Municipality, Name, Password
from app.catalogue.models import Theme
from app.mentors.models import MentorStatus, ShiftStatus
from app.text import MULTILINE


class MentorSignupIn(Form):
    email: Email
    name: Name
    password: Password
    # The rules on age are the service's (settings); the bounds only keep the arithmetic sane.
    birth_date: Annotated[date, Field(ge=date(1900, 1, 1), le=date(2099, 12, 31))]
    institution_id: DbId
    study_programme: Annotated[str, Field(min_length=1, max_length=200)]
    finishing_year: Annotated[int, Field(ge=2000, le=2099)] | None = None
    themes: list[Theme] = []
    # Where the mentor can go for a visit; none: their institution's municipality.
    municipalities: Annotated[list[Municipality], Field(max_length=19)] = []
    # Required under the consent age (18 by default): the guardian is asked by e-mail.
    guardian_email: Email | None = None
    why_stem: Annotated[str, MULTILINE, Field(max_length=1000)] = ""
    show_why_stem: StrictBool = False
    # The programme's code of conduct (app.mentors.conduct); the sign-up page requires it.
    accepts_code_of_conduct: StrictBool = False


class MentorSignedUp(BaseModel):
    id: int
    status: MentorStatus


class OpenShift(BaseModel):
    """A mentoring date a mentor may take (GET /api/v1/shifts)."""

    session_id: int
    offer_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    municipality: str
    mentors_min: int
    mentors_max: int
    mentors_signed: int


class ShiftSignupIn(BaseModel):
    # Needed once, until the mentor has accepted the current code of conduct.
    accepts_code_of_conduct: StrictBool = False


class ShiftTaken(BaseModel):
    id: int
    session_id: int
    status: ShiftStatus


class LeaveIn(BaseModel):
    # Required less than SHIFT_LEAVE_HOURS before the date.
    reason: Annotated[str, MULTILINE, Field(max_length=500)] = ""


class MyShift(BaseModel):
    id: int
    session_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    status: ShiftStatus
    # Counted hours, once the shift is completed.
    hours: float | None


class MyShifts(BaseModel):
    items: list[MyShift]
    total: int
    hours_total: float


# Approval and safeguarding (app.mentors.approval_api).


class MentorListItem(BaseModel):
    """A mentor in the approval queue: never their birth date or phone; the e-mail address only
    for coordinators and administrators."""

    id: int
    name: str
    status: MentorStatus
    institution_id: int
    institution_name: str
    study_programme: str
    created_at: datetime
    # The last day their latest child-certificate assessment holds (past days too); none: none yet.
    certificate_valid_until: date | None
    email: str | None = None


class MentorList(BaseModel):
    items: list[MentorListItem]
    total: int


class MentorDecided(BaseModel):
    id: int
    status: MentorStatus


class MentorRejectIn(Form):
    # Told to the mentor (MentorProfile.status_reason holds 500 characters).
    reason: Annotated[str, MULTILINE, Field(min_length=1, max_length=500)]


class MentorReasonIn(Form):
    reason: Annotated[str, MULTILINE, Field(max_length=500)] = ""


class CertificateIn(Form):
    """That the mentor's child certificate was assessed: never the certificate or a CPR number."""

    # Not in the future; the rule is the service's (the bounds keep the arithmetic sane).
    assessed_on: Annotated[date, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))]
    # By default, and at most, a year after assessed_on.
    valid_until: Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))] | None = None


class CertificateRecorded(BaseModel):
    id: int
    mentor_id: int
    assessed_on: date
    valid_until: date
