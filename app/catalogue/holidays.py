"""School holidays: the usual Danish school year's breaks, which coordinators can adjust per
municipality. Together with the public holidays they close days for new sessions."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from dateutil.easter import easter
from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.calendar.bounds import check_planned_day, planning_school_years
from app.catalogue.models import SchoolHoliday
from app.errors import Forbidden, InvalidInput, NotFound
from app.i18n import _


def standard_school_holidays(first_year: int) -> list[tuple[str, date, date]]:
    """The breaks most schools in the region keep in the school year starting in August of
    `first_year`: autumn (week 42), Christmas, winter (week 7), Easter and summer."""
    second_year = first_year + 1
    easter_sunday = easter(second_year)
    return [
        (
            _("Autumn holiday"),
            date.fromisocalendar(first_year, 42, 1),
            date.fromisocalendar(first_year, 42, 5),
        ),
        (_("Christmas holiday"), date(first_year, 12, 21), date(second_year, 1, 1)),
        (
            _("Winter holiday"),
            date.fromisocalendar(second_year, 7, 1),
            date.fromisocalendar(second_year, 7, 5),
        ),
        (_("Easter holiday"), easter_sunday - timedelta(days=6), easter_sunday + timedelta(days=1)),
        (_("Summer holiday"), summer_holiday_starts(first_year), date(second_year, 8, 9)),
    ]


def summer_holiday_starts(first_year: int) -> date:
    """The first day of the summer holiday that ends the school year starting in August of
    `first_year`: the last Saturday of June."""
    day = date(first_year + 1, 6, 30)
    return day - timedelta(days=(day.weekday() - 5) % 7)


def _scope(actor: User, municipality: str | None) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only coordinators and administrators may do this."))
    if actor.role == Role.coordinator and actor.municipality and municipality != actor.municipality:
        raise InvalidInput(
            _("You can only manage holidays in %(municipality)s.")
            % {"municipality": actor.municipality},
            field="municipality",
        )


def list_holidays(db: Session, actor: User, *, from_date: date) -> Sequence[SchoolHoliday]:
    if not actor.is_staff:
        raise Forbidden(_("Only coordinators and administrators may do this."))
    query = select(SchoolHoliday).where(SchoolHoliday.ends_on >= from_date)
    if actor.role == Role.coordinator and actor.municipality:
        query = query.where(
            col(SchoolHoliday.municipality).is_(None)
            | (col(SchoolHoliday.municipality) == actor.municipality)
        )
    return db.exec(
        query.order_by(col(SchoolHoliday.starts_on), col(SchoolHoliday.municipality))
    ).all()


def add_holiday(
    db: Session,
    actor: User,
    *,
    name: str,
    municipality: str | None,
    starts_on: date,
    ends_on: date,
    now: datetime,
) -> SchoolHoliday:
    _scope(actor, municipality)
    check_planned_day(starts_on, now=now, field="starts_on")
    check_planned_day(ends_on, now=now, field="ends_on")
    if ends_on < starts_on:
        raise InvalidInput(_("The last day must not be before the first."), field="ends_on")
    if (ends_on - starts_on).days > 70:
        raise InvalidInput(_("A holiday can last at most ten weeks."), field="ends_on")
    holiday = SchoolHoliday(
        name=name, municipality=municipality, starts_on=starts_on, ends_on=ends_on
    )
    db.add(holiday)
    db.commit()
    db.refresh(holiday)
    return holiday


def add_standard_holidays(
    db: Session, actor: User | None, first_year: int, municipality: str | None = None, *, now: datetime
) -> int:
    """Add the usual breaks of a school year (skipping any already there); `actor` None is the
    command line. Returns how many were added."""
    if actor is not None:
        _scope(actor, municipality)
    if first_year not in planning_school_years(now):
        raise InvalidInput(_("Choose one of the options in the list."), field="school_year")
    added = 0
    for name, starts_on, ends_on in standard_school_holidays(first_year):
        exists = db.exec(
            select(SchoolHoliday.id).where(
                SchoolHoliday.starts_on == starts_on,
                SchoolHoliday.ends_on == ends_on,
                col(SchoolHoliday.municipality).is_(None)
                if municipality is None
                else SchoolHoliday.municipality == municipality,
            )
        ).first()
        if exists is None:
            db.add(
                SchoolHoliday(
                    name=name, municipality=municipality, starts_on=starts_on, ends_on=ends_on
                )
            )
            added += 1
    db.commit()
    return added


def get_holiday(db: Session, actor: User, holiday_id: int) -> SchoolHoliday:
    """A holiday the actor may change (another municipality's does not exist for them)."""
    holiday = db.get(SchoolHoliday, holiday_id)
    if holiday is None:
        raise NotFound(_("No such holiday."))
    try:
        _scope(actor, holiday.municipality)
    except InvalidInput:
        raise NotFound(_("No such holiday.")) from None
    return holiday


def delete_holiday(db: Session, actor: User, holiday_id: int) -> None:
    db.delete(get_holiday(db, actor, holiday_id))
    db.commit()
