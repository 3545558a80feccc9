"""Reading a posted form into a schema, with messages in the visitor's language next to each field."""

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from app.errors import DomainError, InvalidInput
from app.i18n import _
from app.web.csrf import CSRF_FIELD

M = TypeVar("M", bound=BaseModel)


def _message(error: dict[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return _("Fill in this field.")
    if kind == "string_too_short":
        return _("Use at least %(count)d characters.") % {"count": ctx["min_length"]}
    if kind == "string_too_long":
        return _("Use at most %(count)d characters.") % {"count": ctx["max_length"]}
    if kind == "value_error" and "email" in str(error.get("msg", "")):
        return _("Write a valid e-mail address, e.g. name@school.dk.")
    if kind == "unknown_municipality":
        return _("Choose one of the municipalities in the list.")
    if kind in ("enum", "literal_error"):
        return _("Choose one of the options in the list.")
    if kind in ("int_parsing", "int_type"):
        return _("Write a whole number.")
    if kind == "greater_than_equal":
        return _("Write a number of at least %(limit)s.") % {"limit": ctx["ge"]}
    if kind == "less_than_equal":
        return _("Write a number of at most %(limit)s.") % {"limit": ctx["le"]}
    if kind == "greater_than":
        return _("Write a number above %(limit)s.") % {"limit": ctx["gt"]}
    if kind == "less_than":
        return _("Write a number below %(limit)s.") % {"limit": ctx["lt"]}
    if kind == "too_short":  # a list, such as the weekdays of weekly dates
        return _("Choose at least one.")
    if kind == "girls_above_pupils":
        return _("There cannot be more girls than pupils.")
    if kind == "grade_range":
        return _("The last grade cannot be below the first.")
    if kind == "pupil_range":
        return _("The largest number of pupils cannot be below the smallest.")
    if kind in ("bool_parsing", "bool_type"):
        return _("Choose yes or no.")
    if kind == "time_with_offset":
        return _("Write the time in hours and minutes, e.g. 09:30.")
    if kind == "not_one_line":
        return _("Write it on one line, without line breaks or other special characters.")
    if kind == "control_character":
        return _("Remove the special characters (control characters) from the text.")
    return _("Check this field.")


def rule_field(error: dict[str, Any]) -> str | None:
    """For a rule across fields (girls no more than pupils), found on the whole form, the field its
    check names in its context (`PydanticCustomError(..., {"field": "girls"})`)."""
    return (error.get("ctx") or {}).get("field")


def error_field(error: dict[str, Any]) -> str | None:
    """The field an error is about: where it was found, or the one its rule names."""
    return str(error["loc"][0]) if error["loc"] else rule_field(error)


# The errors' key of a message about the whole form rather than one of its fields: the error
# summary shows it without a field's name or a link.
FORM_ERROR = ""


def errors_by_field(error: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        found.setdefault(error_field(item) or FORM_ERROR, _message(item))
    return found


def form_errors(error: DomainError, renamed: Mapping[str, str] | None = None) -> dict[str, str]:
    """A domain error as a form's errors: under the field it names (the service's name for it, or
    the form's name in `renamed`), or under FORM_ERROR when it names none."""
    field = (renamed or {}).get(error.field, error.field)
    return {field or FORM_ERROR: error.message}


class FormFields(dict[str, str]):
    """A posted form: each field's last value, as Django's QueryDict and Starlette's FormData give
    it, so that schemas and handlers only ever see one string per field, also when a hand-made
    post repeats one; a field meant to be sent several times (checkboxes) is read whole with
    `getlist`."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._lists: dict[str, list[str]] = {}
        for name, value in items:
            self._lists.setdefault(name, []).append(value)
        super().__init__((name, values[-1]) for name, values in self._lists.items())

    def getlist(self, name: str) -> list[str]:
        """Every value sent under the name, in the order sent; none when it was not sent."""
        return list(self._lists.get(name, ()))


async def posted_form(request: Request) -> FormFields:
    """The posted fields without the CSRF token, each as its last value (all of them through
    `getlist`). An empty field counts as not given, so optional fields take their default and
    required ones say "fill in this field". A NUL character, which no person types and PostgreSQL
    cannot store, refuses the form, naming the field: dropping it would change what was sent (a
    password that then never works as typed)."""
    form = await request.form()
    kept = []
    for name, value in form.multi_items():
        if name == CSRF_FIELD or not isinstance(value, str):
            continue
        if "\x00" in value:
            raise InvalidInput(_("Remove the special characters (control characters) from the text."), field=name)
        if value.strip():
            kept.append((name, value))
    return FormFields(kept)


PostedForm = Annotated[FormFields, Depends(posted_form)]


def int_or_none(value: str | None, low: int, high: int) -> int | None:
    """A whole number from low to high as typed in a form or an address, or None for anything
    else (empty, not a number, out of range), for the caller to skip or refuse. Bounding ids by
    app.db.MAX_ID keeps a hand-made 10**20 from the database, whose integers it would overflow."""
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number is not None and low <= number <= high else None


E = TypeVar("E", bound=StrEnum)


def optional_choice(enum: type[E], value: str | None) -> E | None:
    """A filter from the address bar: empty or unknown values mean "no filter", not an error, so
    an edited or outdated link still shows a page."""
    try:
        return enum(value) if value else None
    except ValueError:
        return None


def validate(schema: type[M], data: dict[str, Any]) -> tuple[M | None, dict[str, str]]:
    try:
        return schema.model_validate(data), {}
    except ValidationError as error:
        return None, errors_by_field(error)
