"""What a mentor sends to sign up, and what the API answers."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool

from app.accounts.schemas import DbId, Email, Form, Municipality, Name, Password
from app.catalogue.models import Theme
from app.mentors.models import MentorStatus
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


class MentorSignedUp(BaseModel):
    id: int
    status: MentorStatus
