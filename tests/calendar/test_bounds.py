"""The days an address may name, and the planning period new dates must fall in."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.calendar.bounds import (
    check_planned_day,
    check_planned_moment,
    day_from_address,
    planning_period,
    planning_school_years,
)
from app.errors import InvalidInput
from app.i18n import TIMEZONE


def test_the_planning_period_runs_from_last_school_year_to_five_school_years_ahead():
    autumn = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    assert planning_school_years(autumn) == range(2025, 2032)
    assert planning_period(autumn) == (date(2025, 8, 1), date(2032, 7, 31))
    # The school year turns at midnight Danish time, two hours before it does in UTC in summer.
    assert planning_period(datetime(2027, 7, 31, 22, 30, tzinfo=UTC))[0] == date(2026, 8, 1)
    assert planning_period(datetime(2027, 7, 31, 21, 30, tzinfo=UTC))[0] == date(2025, 8, 1)


def test_a_moment_is_compared_without_converting_it_so_the_ends_of_the_calendar_cannot_overflow():
    now = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    check_planned_day(date(2032, 7, 31), now=now, field="day")
    check_planned_moment(datetime(2032, 7, 31, 23, 59, tzinfo=TIMEZONE), now=now, field="starts_at")
    for moment in (
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),  # in UTC: year 10000
        datetime(1, 1, 1, 0, 10, tzinfo=TIMEZONE),
        datetime(2032, 8, 1, 0, 0, tzinfo=TIMEZONE),
    ):
        with pytest.raises(InvalidInput) as refused:
            check_planned_moment(moment, now=now, field="starts_at")
        assert refused.value.field == "starts_at"


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2027-03-01", date(2027, 3, 1)),
        ("2000-01-01", date(2000, 1, 1)),
        ("2099-12-31", date(2099, 12, 31)),
        ("0001-01-01", None),
        ("9999-12-31", None),
        ("1999-12-31", None),
        ("not-a-date", None),
        ("", None),
        (None, None),
    ],
)
def test_a_day_in_an_address_outside_the_days_shown_is_no_filter(value, day):
    assert day_from_address(value) == day
