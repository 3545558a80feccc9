"""School years, and how far back and ahead the portal deals in dates: the days an address or a
query may name, and the planning period in which new dates (sessions, expert visits, school
holidays) may be set."""

from datetime import date, datetime, time, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from app.errors import InvalidInput
from app.i18n import TIMEZONE, _, local_date


def school_year_of(day: date) -> int:
    """The first calendar year of the school year a day falls in (it starts in August)."""
    return day.year if day.month >= 8 else day.year - 1


# --- days named in an address or a query ---------------------------------------------------------

# The days a filter in an address or an API query may name. Nothing in the portal lies outside
# them, and inside them the date arithmetic of a filter (the next midnight, the step to UTC) cannot
# overflow as it does next to year 1 or 9999. Pages ignore a day outside, as they ignore any value
# they do not know; the API refuses it with the parameter named.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def day_from_address(value: str | None) -> date | None:
    """A day from an address's query: None when missing, malformed or outside FIRST_DAY–LAST_DAY,
    so that an edited or outdated link still shows a page (without that filter)."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day is not None and FIRST_DAY <= day <= LAST_DAY else None


def _shown_day(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PydanticCustomError(
            "date_out_of_range",
            "must be a date from {first} to {last}",
            {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
        )
    return day


# A day in an API query: refused (422, the parameter named) outside FIRST_DAY–LAST_DAY, which the
# OpenAPI schema tells as the years it may start with (tests/test_api_schema.py).
QueryDay = Annotated[
    date, AfterValidator(_shown_day), Field(json_schema_extra={"pattern": "^20[0-9]{2}-"})
]


# --- the planning period -------------------------------------------------------------------------

# New dates may be set from the start of the school year before the current one to the end of the
# fifth school year after it. A year back lets a coordinator still correct last year's holidays
# (sessions and visits must be in the future anyway); five years ahead is more than any provider
# plans, and the same school years a coordinator may set limits per school for. Without a bound a
# mistyped year (9999) was saved, and the arithmetic around it (the week after, UTC) overflowed.
SCHOOL_YEARS_BACK, SCHOOL_YEARS_AHEAD = 1, 5


def planning_school_years(now: datetime) -> range:
    """The school years (each named by the calendar year it starts in) new dates may be set in."""
    current = school_year_of(now.astimezone(TIMEZONE).date())
    return range(current - SCHOOL_YEARS_BACK, current + SCHOOL_YEARS_AHEAD + 1)


def planning_period(now: datetime) -> tuple[date, date]:
    """The first and last day new dates may be set on (a school year runs August to July)."""
    years = planning_school_years(now)
    return date(years[0], 8, 1), date(years[-1] + 1, 7, 31)


def _outside(first: date, last: date, field: str) -> InvalidInput:
    return InvalidInput(
        _("Choose a date from %(first)s to %(last)s.")
        % {"first": local_date(first, "medium"), "last": local_date(last, "medium")},
        field=field,
    )


def check_planned_day(day: date, *, now: datetime, field: str) -> None:
    """Refuse a day outside the planning period, naming the field."""
    first, last = planning_period(now)
    if not first <= day <= last:
        raise _outside(first, last, field)


def check_planned_moment(moment: datetime, *, now: datetime, field: str) -> None:
    """Refuse a moment (with its time zone) outside the planning period's days in Danish time,
    naming the field. Compared as given, without converting it: near year 1 or 9999 converting it
    to Danish time or UTC overflows, so call this before anything converts it."""
    first, last = planning_period(now)
    starts = datetime.combine(first, time.min, TIMEZONE)
    ends = datetime.combine(last + timedelta(days=1), time.min, TIMEZONE)
    if not starts <= moment < ends:
        raise _outside(first, last, field)
