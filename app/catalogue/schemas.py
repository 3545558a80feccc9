"""What the catalogue accepts and shows, shared by the JSON API and the pages' forms."""

from datetime import date, datetime, time
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from app.accounts.schemas import Form, Municipality
from app.catalogue.models import (
    GRADE_MAX,
    GRADE_MIN,
    OfferFormat,
    OfferStatus,
    OfferType,
    Subject,
    Theme,
)
from app.i18n import TIMEZONE
from app.text import MULTILINE

Grade = Annotated[int, Field(ge=GRADE_MIN, le=GRADE_MAX)]
Capacity = Annotated[int, Field(ge=1, le=10_000)]


def _wall_clock(value: time) -> time:
    # Weekly dates and an expert's hours are Danish wall-clock times; a UTC offset on one of two
    # times made them incomparable (a 500), and on both it would be meaningless across DST.
    if value.tzinfo is not None:
        raise PydanticCustomError("time_with_offset", "must be a time of day without a UTC offset")
    return value


# A time of day in Danish time, e.g. 09:30.
TimeOfDay = Annotated[time, AfterValidator(_wall_clock)]
ShortText = Annotated[str, MULTILINE, Field(max_length=1000)]


def _as_sent_at_most(limit: int) -> BeforeValidator:
    """A text's limit counted also on the text as sent, the whitespace around it included (a form
    counts it stripped): the OpenAPI schema can tell a limit this long only so (app.api_schema)."""

    def check(value: object) -> object:
        if isinstance(value, str) and len(value) > limit:
            raise PydanticCustomError(
                "string_too_long", "String should have at most {max_length} characters", {"max_length": limit}
            )
        return value

    return BeforeValidator(check)


# Most sessions one recurrence rule may make: a school year of weekly dates, with room to spare.
MAX_RECURRING_SESSIONS = 60

# How long a freed place offered to a waiting class is held for it, in whole hours: at least one,
# so the teacher has a real chance to answer; at most two weeks, which spans a school holiday, as
# every hour of a hold keeps the place from the classes behind on the list. (A hold also ends when
# the date starts.)
WAITLIST_OFFER_HOURS_MIN, WAITLIST_OFFER_HOURS_MAX = 1, 14 * 24
WaitlistOfferHours = Annotated[int, Field(ge=WAITLIST_OFFER_HOURS_MIN, le=WAITLIST_OFFER_HOURS_MAX)]


class OfferIn(Form):
    type: OfferType
    title: Annotated[str, Field(min_length=1, max_length=200)]
    summary: Annotated[str, Field(max_length=500)] = ""
    description: Annotated[str, MULTILINE, Field(max_length=20_000), _as_sent_at_most(20_000)] = ""
    themes: list[Theme] = []
    subjects: list[Subject] = []
    grade_min: Grade = GRADE_MIN
    grade_max: Grade = GRADE_MAX
    format: OfferFormat = OfferFormat.at_provider
    # A yes or no is JSON's true or false, not 0, 1 or "yes" (the pages send their checkboxes so).
    is_long: StrictBool = False
    # The dates are one course (a class takes them all); only for a long course.
    all_dates_together: StrictBool = False
    girls_only: StrictBool = False
    address: Annotated[str, Field(max_length=300)] = ""
    # Defaults to the provider's municipality.
    municipality: Municipality | None = None
    language: Annotated[str, Field(pattern="^(da|en)$")] = "da"
    pupils_bring: ShortText = ""
    accessibility: ShortText = ""
    contact_name: Annotated[str, Field(max_length=200)] = ""
    contact_email: EmailStr | None = None
    contact_phone: Annotated[str, Field(max_length=30)] = ""
    requires_approval: StrictBool = True
    # Waiting list: may a later class that fits pass the head of the list that does not?
    waitlist_may_pass: StrictBool = True
    waitlist_offer_hours: WaitlistOfferHours = 48
    cancellation_weekdays: Annotated[int, Field(ge=0, le=60)] = 10
    min_pupils: Annotated[int, Field(ge=1, le=10_000)] | None = None
    max_pupils: Annotated[int, Field(ge=1, le=10_000)] | None = None
    lead_days: Annotated[int, Field(ge=0, le=365)] | None = None
    max_visits_per_week: Annotated[int, Field(ge=1, le=100)] | None = None

    @model_validator(mode="after")
    def consistent(self) -> Self:
        if self.grade_min > self.grade_max:
            raise PydanticCustomError("grade_range", "grade_min must not be above grade_max", {"field": "grade_max"})
        if self.min_pupils and self.max_pupils and self.min_pupils > self.max_pupils:
            raise PydanticCustomError("pupil_range", "min_pupils must not be above max_pupils", {"field": "max_pupils"})
        if self.type == OfferType.girls_day:
            self.girls_only = True
        if self.type == OfferType.company_week:
            self.is_long = True
        if not self.is_long:
            self.all_dates_together = False
        self.themes = sorted(set(self.themes))
        self.subjects = sorted(set(self.subjects))
        return self


class OfferCreate(OfferIn):
    # A new offer is a draft or published at once (API.md); it is unpublished or archived later.
    status: Literal["draft", "published"] = "draft"


# A change to some of an offer's fields (PATCH): every field of OfferIn with its limits, none
# required (and null only where OfferIn takes null). The fields sent, laid over the stored offer,
# are then checked as a whole OfferIn, for the rules across fields.
def _patched(field: FieldInfo) -> tuple[object, FieldInfo]:
    kept = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
    # None, unchecked, only tells that the field was not sent: no default for the schema to show.
    return kept, Field(default=None, json_schema_extra=lambda schema: schema.pop("default"))


OfferPatch = create_model(
    "OfferPatch",
    __base__=Form,
    **{name: _patched(field) for name, field in OfferIn.model_fields.items()},
)


MentorPlaces = Annotated[int, Field(ge=0, le=50)]


class SessionIn(Form):
    starts_at: datetime
    ends_at: datetime
    capacity_pupils: Capacity
    capacity_classes: Annotated[int, Field(ge=1, le=1000)] | None = None
    booking_deadline: datetime | None = None
    note: Annotated[str, Field(max_length=500)] = ""
    # A mentoring date: how many youth-to-youth mentors it needs and takes (default 1 and 1).
    mentors_min: MentorPlaces | None = None
    mentors_max: MentorPlaces | None = None
    # Danish public and school holidays are closed unless the provider opens them on purpose.
    open_on_holiday: StrictBool = False

    @field_validator("starts_at", "ends_at", "booking_deadline", mode="after")
    @classmethod
    def danish_time_when_naive(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=TIMEZONE) if value and value.tzinfo is None else value


class RecurrenceIn(Form):
    """Weekly sessions: e.g. every Tuesday 9-12 from the first to the last date."""

    weekdays: Annotated[list[Annotated[int, Field(ge=0, le=6)]], Field(min_length=1)]
    starts: TimeOfDay
    ends: TimeOfDay
    first_date: date
    last_date: date
    every_weeks: Annotated[int, Field(ge=1, le=8)] = 1
    # How many days in a row each date lasts: 5 for a company week from Monday to Friday (one
    # date, from the start time on its first day to the end time on its last). At most a month,
    # as for any date.
    days: Annotated[int, Field(ge=1, le=31)] = 1
    capacity_pupils: Capacity
    capacity_classes: Annotated[int, Field(ge=1, le=1000)] | None = None
    # Days before each session that booking closes.
    deadline_days: Annotated[int, Field(ge=0, le=365)] | None = None
    mentors_min: MentorPlaces | None = None
    mentors_max: MentorPlaces | None = None


class SessionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    offer_id: int
    starts_at: datetime
    ends_at: datetime
    capacity_pupils: int
    capacity_classes: int | None
    booking_deadline: datetime | None
    cancelled: bool = False
    held_pupils: int = 0
    held_classes: int = 0
    waiting: int = 0
    free_pupils: int = 0
    # A mentoring date's mentors: needed, at most, signed up (else 0).
    mentors_min: int = 0
    mentors_max: int = 0
    mentors_signed: int = 0


class OfferPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    provider_id: int
    provider_name: str = ""
    type: OfferType
    status: OfferStatus
    title: str
    summary: str
    description: str
    themes: list[Theme]
    subjects: list[Subject]
    grade_min: int
    grade_max: int
    format: OfferFormat
    is_long: bool
    all_dates_together: bool
    girls_only: bool
    address: str
    municipality: str
    language: str
    requires_approval: bool
    waitlist_may_pass: bool
    waitlist_offer_hours: int
    cancellation_weekdays: int
    min_pupils: int | None
    max_pupils: int | None
    lead_days: int | None
    max_visits_per_week: int | None
    contact_name: str
    contact_email: str
    contact_phone: str
    pupils_bring: str
    accessibility: str
    distance_km: float | None = None
    sessions: list[SessionPublic] = []


class HolidayIn(Form):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    # None: the whole region.
    municipality: Municipality | None = None
    starts_on: date
    ends_on: date


class WindowIn(Form):
    weekday: Annotated[int, Field(ge=0, le=6)]
    starts: TimeOfDay
    ends: TimeOfDay
