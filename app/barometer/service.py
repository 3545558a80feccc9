"""The STEM barometer's figures: counted from the bookings, shifts and evaluations under the
counting rule of shared/API.md, kept in `barometer_figures` for a while, and suppressed where a
cell is small enough to identify someone. No HTTP here: the page, the API, the command line and the
worker call these.

The counting rule
-----------------
A booking counts in year Y when its (first) date starts in calendar year Y, Danish time (a date
at 23:30 UTC on 31 December is already 1 January in Denmark, so in the next year), and its
status is `confirmed` or `completed`. A long course booked as one (`Booking.course_id`: a row per
date) counts once: as the row its dates point at, in the year of the earliest of its dates that
are confirmed or completed (a course's dates are decided and cancelled together, so this is its
first date). With `school_year` the period is 1 August Y to 31 July Y+1 (Danish time).

- `bookings` and `classes`: the counted bookings (each is one class at one activity, so the two
  are equal; API.md names both).
- `pupils`, `girls`: their sums (a booking without a girls' count adds no girls).
  `girls_share`: girls / pupils of the counted bookings that give a girls' count, a fraction from
  0 to 1 with four decimals; None when none gives one.
- `schools_reached`: distinct schools with a counted booking. `schools_total`: the school
  organisations (of the chosen municipality, and with `level` of that school level); the portal
  has no "inactive" school, so every school organisation counts as active.
- `providers_active`: distinct providers of the counted bookings' offers.
- `mentors_active`: distinct mentors with a completed shift on a date in the period;
  `mentor_hours`: those shifts' counted minutes / 60, two decimals (a shift whose mentor has
  deleted their account, mentor_id empty, still counts its hours).
- `evaluations`: answered evaluation requests (teacher, provider, mentor) of the counted bookings
  (of any date of a counted course); `evaluation_score`: the mean of their answers to scale
  questions (1-5), two decimals; None when there is none.
- `company_weeks`: counted bookings of company weeks; `girls_day_places`: the pupils of counted
  Girls Day bookings. Unmet demand is not recorded by the portal (no demand board yet), so it
  is not given.

Filters: `municipality` is the booking's school's municipality (where the pupils come from; so are
`by_municipality`'s rows); `type`, `theme` (one of the offer's themes) and `provider_kind` are the
offer's and its provider's; `level` is the booking's grade: "primary" is grades 0-10 (grundskole),
"upper_secondary" grades 11-13. A mentor's shift counts under `type`, `theme` and
`provider_kind` by its date's offer, and under `municipality` and `level` when its date has a
counted booking of a school of that municipality, of a grade of that level.

`by_municipality` lists all 19 municipalities, zeros included; `by_type` all six offer types and
`by_theme` all five themes, zeros included. An offer with several themes counts under each, so
`by_theme` can add up to more than the totals.

Suppression (the issue's rule for open data)
--------------------------------------------
A cell below municipality level is one that is restricted to one municipality and to something
more (a type, theme, education level or provider kind): `by_type` and `by_theme` when a
municipality is chosen, `by_municipality` when a type, theme, level or provider kind is chosen,
and the totals when a municipality and any other filter are chosen. In such a cell:
- with 1 to 4 pupils, every figure counted from the bookings is withheld: null, and the row's
  `suppressed` is true (0 pupils is no one and is shown);
- with a single active mentor, `mentors_active` and `mentor_hours` are withheld likewise.
Cells at region or municipality level are shown as counted. `schools_total` is never withheld
(it counts organisations, not people).

Caching
-------
Figures are stored in `barometer_figures` under a canonical key of the period and filters
(`figures_key`), with `as_of` their `computed_at` and `read_at` when a reader last asked for
them. A count finds the counted bookings once, into a temporary table, and reads every figure
from it. Counting a year of a large region takes seconds, so readers do not wait for it: a read
serves the stored figures (up to a day old) and counts only figures nobody has read lately. The
worker (`refresh_stale`) keeps the current and last year's unfiltered figures and every figure
read within a day younger than BAROMETER_MAX_AGE_MINUTES, recounting each once it is half that
old (a period that has ended: a day), and drops figures nobody read within a day, so visitors'
filter combinations cannot make its work grow without bound. `refresh` (the command line)
recounts every stored key at once. Targets are read fresh on every call (a coordinator sees a
new target at once)."""

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import and_, case, column, delete, exists, func, or_, select, table, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import ClauseElement, Executable
from sqlmodel import Session, col

from app.accounts.models import Organisation, OrganisationKind, ProviderKind, SchoolLevel
from app.barometer.models import BarometerFigures
from app.bookings.models import Booking, BookingStatus
from app.catalogue.models import Offer, OfferSession, OfferTheme, OfferType, Theme
from app.config import get_settings
from app.errors import InvalidInput
from app.evaluations.models import Answer, EvaluationRequest, Question, QuestionKind
from app.geography import MUNICIPALITIES, MUNICIPALITY_NAMES
from app.i18n import TIMEZONE, _
from app.mentors.models import Shift, ShiftStatus

FIRST_YEAR, LAST_YEAR = 2000, 2100
COUNTED = (BookingStatus.confirmed, BookingStatus.completed)
# The highest grade of grundskole (0-10); grades above are upper secondary (API.md's grades 0-13).
PRIMARY_MAX_GRADE = 10
# The least number of pupils a cell below municipality level may show.
SMALLEST_CELL = 5
# Stored figures of another version of this module's shape are counted anew.
KEY_VERSION = "v1"
# How many figures the worker recounts in one pass (a count of a year of a million-booking region
# takes a second or two, and the pass's other jobs, e-mail among them, wait for it).
REFRESH_PER_PASS = 5
# Stored figures are served to readers up to this age (the worker keeps them far younger).
SERVE_STORED_FOR = timedelta(days=1)
# Figures nobody read for this long are no longer kept fresh, and dropped.
READ_WINDOW = timedelta(days=1)
MARK_READ_EVERY = timedelta(hours=1)
ENDED_PERIOD_MAX_AGE = timedelta(days=1)

BOOKING_FIGURES = ("bookings", "classes", "pupils", "girls", "girls_share", "schools_reached",
                   "providers_active", "evaluations", "evaluation_score", "company_weeks",
                   "girls_day_places")
MENTOR_FIGURES = ("mentors_active", "mentor_hours")


@dataclass(frozen=True)
class Filters:
    year: int
    school_year: bool = False
    municipality: str | None = None
    type: OfferType | None = None
    theme: Theme | None = None
    level: SchoolLevel | None = None
    provider_kind: ProviderKind | None = None

    @property
    def below_municipality(self) -> bool:
        """Any filter besides the period and the municipality."""
        return any(v is not None for v in (self.type, self.theme, self.level, self.provider_kind))


def filters(
    *,
    year: int,
    school_year: bool = False,
    municipality: str | None = None,
    type: OfferType | str | None = None,
    theme: Theme | str | None = None,
    level: SchoolLevel | str | None = None,
    provider_kind: ProviderKind | str | None = None,
) -> Filters:
    """The filters, checked: InvalidInput naming the field that is wrong."""
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(
            _("Write a year from %(first)d to %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR},
            field="year",
        )
    if municipality is not None and municipality not in MUNICIPALITIES:
        raise InvalidInput(_("Choose one of the municipalities in the list."), field="municipality")

    def member(enum, value, field):
        if value is None or value == "":
            return None
        try:
            return enum(value)
        except ValueError:
            raise InvalidInput(_("Choose one of the options in the list."), field=field) from None

    return Filters(
        year=year,
        school_year=bool(school_year),
        municipality=municipality or None,
        type=member(OfferType, type, "type"),
        theme=member(Theme, theme, "theme"),
        level=member(SchoolLevel, level, "level"),
        provider_kind=member(ProviderKind, provider_kind, "provider_kind"),
    )


# --- the period ------------------------------------------------------------------------------------


def period_days(year: int, school_year: bool) -> tuple[date, date]:
    """The period's first and last day (Danish calendar)."""
    if school_year:
        return date(year, 8, 1), date(year + 1, 7, 31)
    return date(year, 1, 1), date(year, 12, 31)


def period_bounds(year: int, school_year: bool) -> tuple[datetime, datetime]:
    """[start, end) of the period as points in time: midnight Danish time."""
    first, last = period_days(year, school_year)
    start = datetime.combine(first, time(0), tzinfo=TIMEZONE)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=TIMEZONE)
    return start, end


def period_name(year: int, school_year: bool) -> str:
    """"2026", or a school year "2026/27"."""
    return f"{year}/{(year + 1) % 100:02d}" if school_year else str(year)


def current_year(now: datetime, *, school_year: bool = False) -> int:
    """The calendar year (or the school year, by the year it began) that `now` is in, in Denmark."""
    today = now.astimezone(TIMEZONE).date()
    if school_year and today.month < 8:
        return today.year - 1
    return today.year


# --- counting -----------------------------------------------------------------------------------

COUNTED_TABLE = "barometer_counted"
COUNTED_COLUMNS = ("unit_id", "school_id", "pupils", "girls", "offer_id", "offer_type", "provider_id",
                   "municipality")
# PostgreSQL's work_mem for a count's transaction (the default, 4 MB, makes a year's grouping of
# about 900,000 booking rows spill to disk).
COUNT_WORK_MEM = "64MB"


class CreateTemporaryTableAs(Executable, ClauseElement):
    """CREATE TEMPORARY TABLE name AS SELECT ... (SQLAlchemy has no construct of its own for it;
    this is its documented recipe for custom SQL, so the SELECT's parameters are bound as usual)."""

    inherit_cache = False

    def __init__(self, name: str, query):
        self.name, self.query = name, query


@compiles(CreateTemporaryTableAs)
def _create_temporary_table_as(element, compiler, **kw):
    return f"CREATE TEMPORARY TABLE {element.name} AS {compiler.process(element.query, **kw)}"



def _level_condition(grade, level: SchoolLevel):
    return grade <= PRIMARY_MAX_GRADE if level == SchoolLevel.primary else grade > PRIMARY_MAX_GRADE


def _counted_bookings(f: Filters):
    """SQL (a SELECT of COUNTED_COLUMNS): one row per counted booking (a long course once) in the
    period under the filters."""
    start, end = period_bounds(f.year, f.school_year)
    unit = func.coalesce(col(Booking.course_id), col(Booking.id))
    first_at = func.min(col(OfferSession.starts_at))
    # A single booking's date must lie in the period; a course's earliest counted date must, so
    # its dates are all read (a single booking's range condition can use the starts_at index).
    units = (
        select(unit.label("unit_id"))
        .select_from(Booking)
        .join(OfferSession, col(OfferSession.id) == col(Booking.session_id))
        .where(
            col(Booking.status).in_(COUNTED),
            col(OfferSession.starts_at) < end,
            or_(col(Booking.course_id).is_not(None), col(OfferSession.starts_at) >= start),
        )
        .group_by(unit)
        .having(first_at >= start)
        .subquery()
    )
    lead = aliased(Booking, name="lead")
    school = aliased(Organisation, name="school")
    query = (
        select(
            lead.id.label("unit_id"),
            lead.school_id.label("school_id"),
            lead.pupils.label("pupils"),
            lead.girls.label("girls"),
            Offer.id.label("offer_id"),
            Offer.type.label("offer_type"),
            Offer.provider_id.label("provider_id"),
            school.municipality.label("municipality"),
        )
        .select_from(units)
        .join(lead, lead.id == units.c.unit_id)
        .join(OfferSession, col(OfferSession.id) == lead.session_id)
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .join(school, school.id == lead.school_id)
    )
    if f.municipality is not None:
        query = query.where(school.municipality == f.municipality)
    if f.type is not None:
        query = query.where(col(Offer.type) == f.type)
    if f.theme is not None:
        query = query.where(
            exists().where(col(OfferTheme.offer_id) == col(Offer.id), col(OfferTheme.theme) == f.theme)
        )
    if f.level is not None:
        query = query.where(_level_condition(lead.grade, f.level))
    if f.provider_kind is not None:
        provider = aliased(Organisation, name="provider")
        query = query.join(provider, provider.id == col(Offer.provider_id)).where(
            provider.provider_kind == f.provider_kind
        )
    return query


def _int(value) -> int:
    return int(value or 0)


def _booking_totals(db: Session, counted) -> dict:
    girls_known = case((counted.c.girls.is_not(None), counted.c.pupils), else_=0)
    row = db.execute(
        select(
            func.count(),
            func.sum(counted.c.pupils),
            func.sum(counted.c.girls),
            func.sum(girls_known),
            func.count(func.distinct(counted.c.school_id)),
            func.count(func.distinct(counted.c.provider_id)),
            func.sum(case((counted.c.offer_type == OfferType.company_week.value, 1), else_=0)),
            func.sum(case((counted.c.offer_type == OfferType.girls_day.value, counted.c.pupils), else_=0)),
        ).select_from(counted)
    ).one()
    bookings, pupils, girls, pupils_girls_known, schools, providers, weeks, girls_day = row
    return {
        "bookings": _int(bookings),
        "classes": _int(bookings),
        "pupils": _int(pupils),
        "girls": _int(girls),
        "girls_share": round(_int(girls) / _int(pupils_girls_known), 4) if pupils_girls_known else None,
        "schools_reached": _int(schools),
        "providers_active": _int(providers),
        "company_weeks": _int(weeks),
        "girls_day_places": _int(girls_day),
    }


def _schools_total(db: Session, f: Filters) -> dict[str, int]:
    """School organisations per municipality (of the level, if chosen)."""
    query = select(Organisation.municipality, func.count()).where(
        col(Organisation.kind) == OrganisationKind.school
    )
    if f.level is not None:
        query = query.where(col(Organisation.school_level) == f.level)
    return {m: _int(n) for m, n in db.execute(query.group_by(col(Organisation.municipality))).all()}


def _evaluations(db: Session, counted) -> tuple[int, float | None]:
    asked = aliased(Booking, name="asked")
    of_counted = and_(
        col(EvaluationRequest.answered_at).is_not(None),
        func.coalesce(asked.course_id, asked.id).in_(select(counted.c.unit_id)),
    )
    answered = db.execute(
        select(func.count())
        .select_from(EvaluationRequest)
        .join(asked, asked.id == col(EvaluationRequest.booking_id))
        .where(of_counted)
    ).scalar_one()
    score = db.execute(
        select(func.avg(col(Answer.score)))
        .select_from(Answer)
        .join(EvaluationRequest, col(EvaluationRequest.id) == col(Answer.request_id))
        .join(asked, asked.id == col(EvaluationRequest.booking_id))
        .join(Question, col(Question.id) == col(Answer.question_id))
        .where(of_counted, col(Question.kind) == QuestionKind.scale, col(Answer.score).is_not(None))
    ).scalar_one()
    return _int(answered), (None if score is None else round(float(score), 2))


def _mentors(db: Session, f: Filters) -> tuple[int, float]:
    start, end = period_bounds(f.year, f.school_year)
    query = (
        select(func.count(func.distinct(col(Shift.mentor_id))), func.sum(col(Shift.minutes)))
        .select_from(Shift)
        .join(OfferSession, col(OfferSession.id) == col(Shift.session_id))
        .join(Offer, col(Offer.id) == col(OfferSession.offer_id))
        .where(
            col(Shift.status) == ShiftStatus.completed,
            col(OfferSession.starts_at) >= start,
            col(OfferSession.starts_at) < end,
        )
    )
    if f.type is not None:
        query = query.where(col(Offer.type) == f.type)
    if f.theme is not None:
        query = query.where(
            exists().where(col(OfferTheme.offer_id) == col(Offer.id), col(OfferTheme.theme) == f.theme)
        )
    if f.provider_kind is not None:
        provider = aliased(Organisation, name="provider")
        query = query.join(provider, provider.id == col(Offer.provider_id)).where(
            provider.provider_kind == f.provider_kind
        )
    if f.municipality is not None or f.level is not None:
        visited = aliased(Booking, name="visited")
        school = aliased(Organisation, name="visited_school")
        conditions = [visited.session_id == col(Shift.session_id), visited.status.in_(COUNTED)]
        if f.municipality is not None:
            conditions.append(school.municipality == f.municipality)
        if f.level is not None:
            conditions.append(_level_condition(visited.grade, f.level))
        query = query.where(
            exists(select(visited.id).join(school, school.id == visited.school_id).where(*conditions))
        )
    mentors, minutes = db.execute(query).one()
    return _int(mentors), round(_int(minutes) / 60, 2)


def _small(pupils: int | None) -> bool:
    return pupils is not None and 0 < pupils < SMALLEST_CELL


def _withhold(row: dict, names) -> None:
    for name in names:
        if name in row:
            row[name] = None
    row["suppressed"] = True


def count(db: Session, f: Filters, *, now: datetime) -> dict:
    """The figures of the period under the filters, counted now (not stored; `figures` stores),
    in API.md's shape without the targets, suppression applied."""
    with _counted_table(db, f) as counted:
        return _count(db, f, counted, now=now)


@contextmanager
def _counted_table(db: Session, f: Filters):
    """The counted bookings, found once into a temporary table that every figure then reads:
    finding them (grouping a course's dates) is most of a count's work, and a sub-query would do
    it again in each of the count's statements (and in each parallel worker of each). The table
    is the connection's own, dropped after use."""
    db.execute(text(f"DROP TABLE IF EXISTS {COUNTED_TABLE}"))
    if db.get_bind().dialect.name == "postgresql":
        # Room to group a year's bookings in memory rather than on disk, for this count only.
        db.execute(text(f"SET LOCAL work_mem = '{COUNT_WORK_MEM}'"))
    db.execute(CreateTemporaryTableAs(COUNTED_TABLE, _counted_bookings(f)))
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text(f"ANALYZE {COUNTED_TABLE}"))  # temporary tables are never auto-analysed
    try:
        yield table(COUNTED_TABLE, *(column(name) for name in COUNTED_COLUMNS))
    finally:
        db.execute(text(f"DROP TABLE IF EXISTS {COUNTED_TABLE}"))


def _count(db: Session, f: Filters, counted, *, now: datetime) -> dict:
    schools_total = _schools_total(db, f)
    totals = _booking_totals(db, counted)
    evaluations, score = _evaluations(db, counted)
    mentors, hours = _mentors(db, f)
    region_schools = sum(schools_total.values()) if f.municipality is None else schools_total.get(f.municipality, 0)
    totals.update(
        schools_total=region_schools,
        mentors_active=mentors,
        mentor_hours=hours,
        evaluations=evaluations,
        evaluation_score=score,
        suppressed=False,
    )
    totals = {name: totals[name] for name in TOTALS_FIELDS}
    if f.municipality is not None and f.below_municipality:
        if _small(totals["pupils"]):
            _withhold(totals, BOOKING_FIGURES)
        if mentors == 1:
            _withhold(totals, MENTOR_FIGURES)

    by_municipality = {
        m: {"municipality": m, "bookings": 0, "pupils": 0, "girls": 0, "schools_reached": 0,
            "schools_total": schools_total.get(m, 0), "suppressed": False}
        for m in MUNICIPALITY_NAMES
    }
    rows = db.execute(
        select(
            counted.c.municipality,
            func.count(),
            func.sum(counted.c.pupils),
            func.sum(counted.c.girls),
            func.count(func.distinct(counted.c.school_id)),
        ).group_by(counted.c.municipality)
    ).all()
    for municipality, bookings, pupils, girls, schools in rows:
        if municipality in by_municipality:  # a school outside the region is in the totals only
            by_municipality[municipality].update(
                bookings=_int(bookings), pupils=_int(pupils), girls=_int(girls), schools_reached=_int(schools)
            )
    if f.below_municipality:
        for row in by_municipality.values():
            if _small(row["pupils"]):
                _withhold(row, ("bookings", "pupils", "girls", "schools_reached"))

    by_type = {t: {"type": t.value, "bookings": 0, "pupils": 0, "girls": 0, "suppressed": False} for t in OfferType}
    rows = db.execute(
        select(counted.c.offer_type, func.count(), func.sum(counted.c.pupils), func.sum(counted.c.girls))
        .group_by(counted.c.offer_type)
    ).all()
    for offer_type, bookings, pupils, girls in rows:
        by_type[OfferType(offer_type)].update(bookings=_int(bookings), pupils=_int(pupils), girls=_int(girls))

    by_theme = {t: {"theme": t.value, "bookings": 0, "pupils": 0, "girls": 0, "suppressed": False} for t in Theme}
    rows = db.execute(
        select(col(OfferTheme.theme), func.count(), func.sum(counted.c.pupils), func.sum(counted.c.girls))
        .select_from(counted)
        .join(OfferTheme, col(OfferTheme.offer_id) == counted.c.offer_id)
        .group_by(col(OfferTheme.theme))
    ).all()
    for theme, bookings, pupils, girls in rows:
        by_theme[Theme(theme)].update(bookings=_int(bookings), pupils=_int(pupils), girls=_int(girls))
    if f.municipality is not None:
        for row in [*by_type.values(), *by_theme.values()]:
            if _small(row["pupils"]):
                _withhold(row, ("bookings", "pupils", "girls"))

    first, last = period_days(f.year, f.school_year)
    return {
        "year": f.year,
        "school_year": f.school_year,
        "period": period_name(f.year, f.school_year),
        "period_start": first.isoformat(),
        "period_end": last.isoformat(),
        "filters": {
            "municipality": f.municipality,
            "type": f.type.value if f.type else None,
            "theme": f.theme.value if f.theme else None,
            "level": f.level.value if f.level else None,
            "provider_kind": f.provider_kind.value if f.provider_kind else None,
        },
        "as_of": now.isoformat(),
        "totals": totals,
        "by_municipality": list(by_municipality.values()),
        "by_type": list(by_type.values()),
        "by_theme": list(by_theme.values()),
    }


TOTALS_FIELDS = (
    "bookings", "classes", "pupils", "girls", "girls_share", "schools_reached", "schools_total",
    "providers_active", "mentors_active", "mentor_hours", "evaluations", "evaluation_score",
    "company_weeks", "girls_day_places", "suppressed",
)


# --- the store ------------------------------------------------------------------------------------


def figures_key(f: Filters) -> str:
    """The canonical key of a period and its filters, e.g. "v1:year=2026&municipality=Aarhus"."""
    parts = [("school_year" if f.school_year else "year", str(f.year))]
    for name in ("municipality", "type", "theme", "level", "provider_kind"):
        value = getattr(f, name)
        if value is not None:
            parts.append((name, str(value)))
    return f"{KEY_VERSION}:{urlencode(parts)}"


def filters_of_key(key: str) -> Filters | None:
    """The filters a stored key names; None for a key of another version or one not understood."""
    version, _sep, query = key.partition(":")
    if version != KEY_VERSION:
        return None
    values = dict(parse_qsl(query))
    school_year = "school_year" in values
    try:
        year = int(values.pop("school_year" if school_year else "year"))
        return filters(year=year, school_year=school_year, **values)
    except (KeyError, ValueError, TypeError, InvalidInput):
        return None


def _store(db: Session, key: str, data: dict, *, now: datetime, read: bool = False) -> None:
    """Keep the figures (replacing those stored under the key; `read`: for a reader, who is
    marked); two processes that count the same key at once both write, the later wins. Failing
    to store (SQLite busy) loses only the cache."""
    values = {"key": key, "figures": json.dumps(data), "computed_at": now, "read_at": now if read else None}
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(BarometerFigures).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[BarometerFigures.__table__.c.key],
        set_={"figures": statement.excluded.figures, "computed_at": statement.excluded.computed_at},
    )
    try:
        db.execute(statement)
        db.commit()
    except OperationalError:
        db.rollback()


def _mark_read(db: Session, stored: BarometerFigures, *, now: datetime) -> None:
    """Note that the figures were read (at most once every MARK_READ_EVERY, so a busy page does not
    write on every read; of readers at the same moment one writes, the others find it done)."""
    if stored.read_at is not None and now - stored.read_at < MARK_READ_EVERY:
        return
    try:
        db.execute(
            update(BarometerFigures)
            .where(
                col(BarometerFigures.key) == stored.key,
                or_(col(BarometerFigures.read_at).is_(None), col(BarometerFigures.read_at) <= now - MARK_READ_EVERY),
            )
            .values(read_at=now)
        )
        db.commit()
    except OperationalError:
        db.rollback()


def _max_age(max_age_minutes: int | None) -> timedelta:
    if max_age_minutes is None:
        max_age_minutes = get_settings().barometer_max_age_minutes
    return timedelta(minutes=max_age_minutes)


def _max_age_of(f: Filters, *, now: datetime, max_age: timedelta) -> timedelta:
    """How old the worker lets these figures grow: `max_age`, or a day once their period has
    ended (then only late evaluations and corrections change them)."""
    _start, end = period_bounds(f.year, f.school_year)
    return max_age if now < end else max(max_age, ENDED_PERIOD_MAX_AGE)


def stored_or_counted(db: Session, f: Filters, *, now: datetime, max_age_minutes: int | None = None) -> dict:
    """The figures without targets. By default the stored ones whenever they are younger than
    SERVE_STORED_FOR: the worker recounts figures before they grow older than their max age, so a
    reader never waits for a count unless nobody read these figures lately (or the worker is
    down for a day). With `max_age_minutes`, only stored figures younger than that (0: count now).
    Counted figures are stored."""
    key = figures_key(f)
    stored = db.get(BarometerFigures, key)
    limit = SERVE_STORED_FOR if max_age_minutes is None else timedelta(minutes=max_age_minutes)
    if stored is not None and now - stored.computed_at < limit:
        _mark_read(db, stored, now=now)
        return json.loads(stored.figures)
    data = count(db, f, now=now)
    _store(db, key, data, now=now, read=True)
    return data


def _targets(db: Session, f: Filters, data: dict) -> list[dict]:
    """The coordinators' targets for the year beside the figure each measures (targets.progress:
    a share in per cent, as its target is written). Targets are yearly and region-wide or per
    municipality: given for calendar-year figures without a filter beyond the municipality."""
    from app.barometer import targets

    if f.school_year or f.below_municipality:
        return []
    return [
        {"indicator": p.indicator, "municipality": p.municipality, "target": p.target, "actual": p.actual}
        for p in targets.progress(targets.targets_for(db, f.year, f.municipality), data)
    ]


def figures(
    db: Session,
    *,
    year: int,
    school_year: bool = False,
    municipality: str | None = None,
    type: OfferType | None = None,
    theme: Theme | None = None,
    level: str | None = None,
    provider_kind: ProviderKind | None = None,
    now: datetime,
    max_age_minutes: int | None = None,
) -> dict:
    """The barometer of a year (or, with `school_year`, the school year beginning in August of
    it) under the filters, in API.md's shape: {year, school_year, period, period_start,
    period_end, filters, as_of, totals, by_municipality, by_type, by_theme, targets}. See the
    module's docstring for the counting rule, the filters, suppression and caching; InvalidInput
    naming the field for a filter out of range."""
    f = filters(
        year=year, school_year=school_year, municipality=municipality, type=type, theme=theme,
        level=level, provider_kind=provider_kind,
    )
    data = stored_or_counted(db, f, now=now, max_age_minutes=max_age_minutes)
    data["targets"] = _targets(db, f, data)
    return data


def series(
    db: Session,
    *,
    years: list[int],
    school_year: bool = False,
    municipality: str | None = None,
    type: OfferType | None = None,
    theme: Theme | None = None,
    level: str | None = None,
    provider_kind: ProviderKind | None = None,
    now: datetime,
    max_age_minutes: int | None = None,
) -> list[dict]:
    """The totals of each year, for trends, in the order given: [{year, period, as_of, **totals}]
    (each total as in `figures`, suppression included)."""
    found = []
    for year in years:
        f = filters(
            year=year, school_year=school_year, municipality=municipality, type=type, theme=theme,
            level=level, provider_kind=provider_kind,
        )
        data = stored_or_counted(db, f, now=now, max_age_minutes=max_age_minutes)
        found.append({"year": year, "period": data["period"], "as_of": data["as_of"], **data["totals"]})
    return found


def core_filters(now: datetime) -> list[Filters]:
    """The figures always kept: the current and last calendar year and school year, unfiltered."""
    found = []
    for school_year in (False, True):
        this = current_year(now, school_year=school_year)
        found += [Filters(year=this, school_year=school_year), Filters(year=this - 1, school_year=school_year)]
    return found


def refresh(db: Session, *, now: datetime) -> int:
    """Count anew every stored key, and the current and last year's unfiltered figures
    (`python -m app refresh-barometer`); keys of another version are dropped. Returns how many
    were counted."""
    keys = list(db.execute(select(BarometerFigures.key)).scalars())
    wanted: dict[str, Filters] = {figures_key(f): f for f in core_filters(now)}
    for key in keys:
        f = filters_of_key(key)
        if f is None:
            db.execute(delete(BarometerFigures).where(col(BarometerFigures.key) == key))
        else:
            wanted[key] = f
    db.commit()
    for key, f in wanted.items():
        _store(db, key, count(db, f, now=now), now=now)
    return len(wanted)


def refresh_stale(
    db: Session, *, now: datetime, max_age_minutes: int | None = None, limit: int = REFRESH_PER_PASS
) -> int:
    """The worker's job: count anew, the oldest first and at most `limit` in one pass, the core
    figures when missing or past half their max age, and other figures read within READ_WINDOW
    that are past half their max age (see `_max_age_of`); counting at half keeps what readers
    are served younger than the max age while the worker keeps up. Figures nobody read within
    READ_WINDOW are dropped, so that visitors' filter combinations cannot make the work grow
    without bound (the next read counts them again). Returns how many were counted."""
    max_age = _max_age(max_age_minutes)
    core = {figures_key(f): f for f in core_filters(now)}
    stored = db.execute(select(BarometerFigures.key, BarometerFigures.computed_at, BarometerFigures.read_at)).all()
    due: list[tuple[datetime, str, Filters]] = []
    dropped = []
    for key in core.keys() - {key for key, _computed_at, _read_at in stored}:
        due.append((datetime.min.replace(tzinfo=now.tzinfo), key, core[key]))
    for key, computed_at, read_at in stored:
        f = filters_of_key(key)
        unread = read_at is None or now - read_at >= READ_WINDOW  # (its recounts are no reads)
        if f is None or (key not in core and unread):
            dropped.append(key)
        elif now - computed_at >= _max_age_of(f, now=now, max_age=max_age) / 2:
            due.append((computed_at, key, f))
    if dropped:
        db.execute(delete(BarometerFigures).where(col(BarometerFigures.key).in_(dropped)))
        db.commit()
    due.sort(key=lambda item: item[0])
    for _computed_at, key, f in due[:limit]:
        _store(db, key, count(db, f, now=now), now=now)
    return len(due[:limit])
