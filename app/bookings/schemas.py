"""What the booking engine accepts and shows."""

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic_core import PydanticCustomError

from app.accounts.schemas import DbId, Form
from app.bookings.models import REASON_MAX_LENGTH, BookingStatus
from app.catalogue.models import GRADE_MAX, GRADE_MIN
from app.errors import TooLong
from app.text import MULTILINE


class BookingIn(Form):
    session_id: DbId
    class_name: Annotated[str, Field(min_length=1, max_length=50)]
    grade: Annotated[int, Field(ge=GRADE_MIN, le=GRADE_MAX)]
    pupils: Annotated[int, Field(ge=1, le=1000)]
    girls: Annotated[int, Field(ge=0, le=1000)] | None = None
    adults: Annotated[int, Field(ge=0, le=50)] = 1
    needs: Annotated[str, MULTILINE, Field(max_length=1000)] = ""
    contact_phone: Annotated[str, Field(max_length=30)] = ""
    # Join the waiting list when the session is full, instead of being refused (true or false, as
    # for every yes or no: not 0, 1 or "yes").
    waitlist: StrictBool = False

    @model_validator(mode="after")
    def girls_within_pupils(self) -> Self:
        if self.girls is not None and self.girls > self.pupils:
            raise PydanticCustomError("girls_above_pupils", "girls must not be more than pupils", {"field": "girls"})
        return self


class ReasonIn(Form):
    reason: Annotated[str, MULTILINE, Field(max_length=REASON_MAX_LENGTH)] = ""


def check_reason(reason: str, *, field: str = "reason") -> None:
    """Refuse a reason longer than its column. The rules check it themselves (not only ReasonIn),
    so that pages, API and command line refuse it alike."""
    if len(reason) > REASON_MAX_LENGTH:
        raise TooLong(REASON_MAX_LENGTH, field=field)


class BookingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    session_id: int
    school_id: int
    teacher_id: int
    status: BookingStatus
    class_name: str
    grade: int
    pupils: int
    girls: int | None
    adults: int
    needs: str
    contact_phone: str
    hold_until: datetime | None
    late_cancellation: bool
    reason: str
    created_at: datetime
    # A long course's booking: the id of its first date's booking (the same for all its dates).
    course_id: int | None = None
    waitlist_position: int | None = None
