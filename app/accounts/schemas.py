"""What the accounts domain accepts and shows, shared by the JSON API and the pages' forms."""

from datetime import date, datetime
from typing import Annotated, Generic, Self, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.accounts.models import OrganisationKind, ProviderKind, Role, SchoolLevel
from app.catalogue.models import Theme
from app.db import MAX_ID
from app.geography import MUNICIPALITIES
from app.text import MULTILINE, has_control_characters

PASSWORD_MIN_LENGTH = 10
T = TypeVar("T")


def _known_municipality(value: str) -> str:
    if value not in MUNICIPALITIES:
        raise PydanticCustomError(
            "unknown_municipality", "not one of the 19 municipalities of Central Denmark Region"
        )
    return value


Municipality = Annotated[str, AfterValidator(_known_municipality)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Password = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH, max_length=200)]
Email = Annotated[EmailStr, AfterValidator(str.lower)]


DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _takes_whole_numbers(annotation: object) -> bool:
    """Whether a field's type is an int, possibly optional, constrained or in a list."""
    return annotation is int or any(_takes_whole_numbers(arg) for arg in get_args(annotation))


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def no_true_or_false_for_numbers(cls, value: object, info: ValidationInfo) -> object:
        # Pydantic's lax mode reads JSON's true as 1 (a booking of one pupil). Strict ints would
        # refuse it, but also the text every number in the pages' forms arrives as, and the pages
        # validate these same schemas; so only a bool is refused here, in every form's int fields.
        boolean = isinstance(value, bool) or (
            isinstance(value, list) and any(isinstance(item, bool) for item in value)
        )
        if boolean and _takes_whole_numbers(cls.model_fields[info.field_name].annotation):
            raise PydanticCustomError("int_type", "Input should be a valid integer")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def no_control_characters(cls, value: object, info: ValidationInfo) -> object:
        # Nobody types one, PostgreSQL cannot store NUL, and a line break in a one-line field (a
        # title in an e-mail's subject) breaks what it is put into: refuse them, naming the field.
        multiline = MULTILINE in cls.model_fields[info.field_name].metadata
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and has_control_characters(t, multiline=multiline) for t in texts):
            if multiline:
                raise PydanticCustomError("control_character", "must not contain control characters")
            raise PydanticCustomError("not_one_line", "must be one line, without control characters")
        return value


class OrganisationIn(Form):
    name: Name
    kind: OrganisationKind
    municipality: Municipality
    school_level: SchoolLevel | None = None
    provider_kind: ProviderKind | None = None
    address: Annotated[str, Field(max_length=300)] = ""

    @model_validator(mode="after")
    def details_fit_kind(self) -> Self:
        # Each kind has its own detail; the other is dropped rather than refused, so a form that
        # switched kind half-way still saves what the user meant.
        if self.kind == OrganisationKind.school:
            self.school_level = self.school_level or SchoolLevel.primary
            self.provider_kind = None
        else:
            self.provider_kind = self.provider_kind or ProviderKind.company
            self.school_level = None
        return self


class OrganisationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: OrganisationKind
    municipality: str
    school_level: SchoolLevel | None
    provider_kind: ProviderKind | None
    address: str


class UserIn(Form):
    email: Email
    name: Name
    role: Role
    organisation_id: DbId | None = None
    municipality: Municipality | None = None
    phone: Annotated[str, Field(max_length=30)] = ""
    # JSON's true or false, not 0, 1 or "yes" (the users page sends its checkbox so).
    is_active: StrictBool = True


class UserCreate(UserIn):
    # Without a password the user is invited by e-mail to choose one.
    password: Password | None = None
    # A mentor's (role mentor), all optional: a coordinator who registers a mentor vouches for them.
    birth_date: Annotated[date, Field(ge=date(1900, 1, 1), le=date(2099, 12, 31))] | None = None
    study_programme: Annotated[str, Field(max_length=200)] = ""
    themes: list[Theme] = []
    municipalities: Annotated[list[Municipality], Field(max_length=19)] = []


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    organisation_id: int | None
    municipality: str | None
    phone: str
    is_active: bool
    created_at: datetime


class UserCreated(UserPublic):
    # Whether the invitation e-mail reached the mail server (none when a password was given).
    invitation_sent: bool | None = None


class ProfileIn(Form):
    name: Name
    phone: Annotated[str, Field(max_length=30)] = ""


class PasswordChange(Form):
    current_password: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Password


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
