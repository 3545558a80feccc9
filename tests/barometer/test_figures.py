"""The barometer's figures equal a direct count of the bookings under the counting rule (shared/
API.md): bookings in every status, across years and the New Year's edge in Danish time, long
courses, municipalities, girls, mentors' shifts and evaluations; filters; suppression; the store
(`as_of`, refresh, the worker's job and the command line). On SQLite and PostgreSQL alike."""

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect
from sqlmodel import Session, select

from app.accounts.models import Organisation, OrganisationKind, ProviderKind, SchoolLevel
from app.barometer import service
from app.barometer.models import BarometerFigures
from app.bookings.models import Booking, BookingStatus
from app.catalogue.models import Offer, OfferSession, OfferStatus, OfferTheme, OfferType, Theme
from app.evaluations.models import Answer, EvaluationRequest, Question, QuestionKind
from app.geography import MUNICIPALITY_NAMES
from app.mentors.models import Shift, ShiftStatus
from tests.factories import make_user

DK = ZoneInfo("Europe/Copenhagen")
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # "now" in these tests
COUNTED = {BookingStatus.confirmed, BookingStatus.completed}


# --- a small world, built straight into the tables --------------------------------------------------


@dataclass
class Planned:
    """What the test knows of a booking it made, for the direct count."""

    school: Organisation
    provider: Organisation
    offer_type: OfferType
    themes: tuple[Theme, ...]
    dates: list[datetime]  # each date's start
    statuses: list[BookingStatus]  # each date's row's status
    pupils: int
    girls: int | None
    grade: int
    lead: Booking | None = None
    rows: list[Booking] = field(default_factory=list)


class World:
    def __init__(self, db: Session):
        self.db = db
        self.teacher = make_user(db, "teacher")
        self.created: list = []
        self.planned: list[Planned] = []
        self.shifts: list[tuple[datetime, int | None, ShiftStatus, int | None, Offer]] = []

    def _add(self, row):
        self.db.add(row)
        self.db.flush()
        self.created.append(row)
        return row

    def school(self, municipality: str = "Aarhus", level: SchoolLevel = SchoolLevel.primary) -> Organisation:
        return self._add(Organisation(name=f"Skole {uuid.uuid4().hex[:6]}", kind=OrganisationKind.school,
                                      municipality=municipality, school_level=level))

    def provider(self, kind: ProviderKind = ProviderKind.company) -> Organisation:
        return self._add(Organisation(name=f"Udbyder {uuid.uuid4().hex[:6]}", kind=OrganisationKind.provider,
                                      municipality="Aarhus", provider_kind=kind))

    def offer(self, type: OfferType = OfferType.course, themes=(), provider: Organisation | None = None) -> Offer:
        provider = provider or self.provider()
        offer = self._add(Offer(provider_id=provider.id, type=type, status=OfferStatus.published, title="Tilbud",
                                grade_min=0, grade_max=13, municipality="Aarhus"))
        for theme in themes:
            self._add(OfferTheme(offer_id=offer.id, theme=theme))
        offer._themes = tuple(themes)  # for the plan
        offer._provider = provider
        return offer

    def date(self, offer: Offer, starts_at: datetime) -> OfferSession:
        return self._add(OfferSession(offer_id=offer.id, starts_at=starts_at, ends_at=starts_at + timedelta(hours=3),
                                      capacity_pupils=100, mentors_max=3))

    def book(self, school: Organisation, offer: Offer, starts: list[datetime], status: BookingStatus, *,
             pupils: int = 20, girls: int | None = None, grade: int = 7,
             statuses: list[BookingStatus] | None = None) -> Planned:
        """A booking of one date, or a long course booked as one: a row per date, each pointing at
        the first row made (which need not be the earliest date)."""
        statuses = statuses or [status] * len(starts)
        plan = Planned(school, offer._provider, offer.type, offer._themes, list(starts), statuses, pupils, girls, grade)
        for starts_at, row_status in zip(starts, statuses, strict=True):
            date = self.date(offer, starts_at)
            row = self._add(Booking(session_id=date.id, school_id=school.id, teacher_id=self.teacher.id,
                                    status=row_status, class_name="7a", grade=grade, pupils=pupils, girls=girls,
                                    course_id=plan.rows[0].id if plan.rows else None))
            row._date = date
            plan.rows.append(row)
        if len(plan.rows) > 1:
            plan.rows[0].course_id = plan.rows[0].id
            self.db.add(plan.rows[0])
            self.db.flush()
        plan.lead = plan.rows[0]
        self.planned.append(plan)
        return plan

    def shift(self, offer: Offer, starts_at: datetime, mentor_id: int | None,
              status: ShiftStatus = ShiftStatus.completed, minutes: int | None = 120, date=None) -> None:
        date = date or self.date(offer, starts_at)
        self._add(Shift(session_id=date.id, mentor_id=mentor_id, status=status, minutes=minutes,
                        created_at=T0, updated_at=T0))
        self.shifts.append((date.starts_at, mentor_id, status, minutes, offer))

    def evaluation(self, booking: Booking, *, answered: bool = True, scores=(), yes_no: int | None = None) -> None:
        request = self._add(EvaluationRequest(booking_id=booking.id, user_id=None, respondent="teacher",
                                              token_hash=uuid.uuid4().hex, expires_at=T0 + timedelta(days=30),
                                              sent_at=T0, answered_at=T0 if answered else None))
        for score in scores:
            question = self._add(Question(offer_type=OfferType.course, kind=QuestionKind.scale,
                                          text_da="?", text_en="?", created_at=T0))
            self._add(Answer(request_id=request.id, question_id=question.id, score=score))
        if yes_no is not None:
            question = self._add(Question(offer_type=OfferType.course, kind=QuestionKind.yes_no,
                                          text_da="?", text_en="?", created_at=T0))
            self._add(Answer(request_id=request.id, question_id=question.id, score=yes_no))

    def commit(self) -> None:
        self.db.commit()

    def remove_all(self) -> None:
        """Delete what the world made, so that the next Hypothesis example starts clean."""
        for row in self.created:
            if isinstance(row, Booking) and row.course_id is not None:
                row.course_id = None
                self.db.add(row)
        self.db.flush()
        for row in reversed(self.created):
            self.db.delete(row)
            self.db.flush()
        self.created.clear()
        self.planned.clear()
        self.shifts.clear()
        self.db.execute(BarometerFigures.__table__.delete())
        self.db.commit()


# --- the direct count, written plainly ------------------------------------------------------------


def bounds(year: int, school_year: bool = False) -> tuple[datetime, datetime]:
    if school_year:
        return datetime(year, 8, 1, tzinfo=DK), datetime(year + 1, 8, 1, tzinfo=DK)
    return datetime(year, 1, 1, tzinfo=DK), datetime(year + 1, 1, 1, tzinfo=DK)


def counted(world: World, year: int, school_year: bool = False, keep=lambda plan: True) -> list[Planned]:
    start, end = bounds(year, school_year)
    found = []
    for plan in world.planned:
        dates = [d for d, s in zip(plan.dates, plan.statuses, strict=True) if s in COUNTED]
        if dates and start <= min(dates) < end and keep(plan):
            found.append(plan)
    return found


def all_schools(db: Session, municipality: str | None = None) -> int:
    schools = db.exec(select(Organisation).where(Organisation.kind == OrganisationKind.school)).all()
    return len([s for s in schools if municipality is None or s.municipality == municipality])


def expected_totals(plans: list[Planned]) -> dict:
    pupils = sum(p.pupils for p in plans)
    girls = sum(p.girls or 0 for p in plans)
    pupils_with_girls = sum(p.pupils for p in plans if p.girls is not None)
    return {
        "bookings": len(plans),
        "classes": len(plans),
        "pupils": pupils,
        "girls": girls,
        "girls_share": round(girls / pupils_with_girls, 4) if pupils_with_girls else None,
        "schools_reached": len({p.school.id for p in plans}),
        "providers_active": len({p.provider.id for p in plans}),
        "company_weeks": len([p for p in plans if p.offer_type == OfferType.company_week]),
        "girls_day_places": sum(p.pupils for p in plans if p.offer_type == OfferType.girls_day),
    }


def count(db, year: int, **filters) -> dict:
    """The service's figures, counted now (a maximum age of 0 never takes stored ones)."""
    return service.figures(db, year=year, now=T0, max_age_minutes=0, **filters)


def danish(year, month, day, hour=10, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=DK).astimezone(UTC)


# --- the scenario ------------------------------------------------------------------------------------


@pytest.fixture
def world(db) -> World:
    return World(db)


def build_scenario(world: World) -> dict:
    """Bookings in every status, in 2024-2026, over the New Year's edge, long courses, three
    municipalities, girls given or not, mentors' shifts and evaluations."""
    aarhus, aarhus_2, herning = world.school("Aarhus"), world.school("Aarhus"), world.school("Herning")
    gym = world.school("Skive", SchoolLevel.upper_secondary)
    world.school("Samsø")  # reached by nothing: in schools_total only
    university = world.provider(ProviderKind.university)
    course = world.offer(OfferType.course, (Theme.ict, Theme.health))
    week = world.offer(OfferType.company_week, (Theme.industry,))
    girls_day = world.offer(OfferType.girls_day, (Theme.ict,), provider=university)
    mentoring = world.offer(OfferType.mentoring, (Theme.climate_energy,), provider=university)

    # Every status once in 2025, at Aarhus: only confirmed and completed count.
    for status in BookingStatus:
        world.book(aarhus, course, [danish(2025, 3, 10)], status, pupils=21, girls=9)
    # The New Year's edge: 23:30 UTC on 31 December is already the next year in Denmark.
    world.book(herning, course, [datetime(2025, 12, 31, 23, 30, tzinfo=UTC)], BookingStatus.confirmed, pupils=11, girls=4)
    world.book(herning, course, [datetime(2024, 12, 31, 23, 30, tzinfo=UTC)], BookingStatus.completed, pupils=13, girls=None)
    world.book(herning, course, [datetime(2025, 12, 31, 22, 59, tzinfo=UTC)], BookingStatus.completed, pupils=17, girls=8)
    # Long courses: one booking each, counted once, in the year of their first date.
    world.book(aarhus_2, week, [danish(2025, 11, 20), danish(2025, 12, 10), danish(2026, 1, 15)],
               BookingStatus.completed, pupils=24, girls=12)
    world.book(gym, week, [danish(2024, 12, 15), danish(2025, 1, 12)], BookingStatus.completed, pupils=28, girls=14, grade=11)
    # The row the others point at is the later date: the course still counts by its first.
    world.book(gym, week, [danish(2026, 2, 3), danish(2025, 10, 6)], BookingStatus.confirmed, pupils=26, girls=None, grade=12)
    # A course cancelled as a whole does not count; one whose first date took place and whose
    # remaining dates were cancelled counts, in its first date's year.
    world.book(aarhus, week, [danish(2025, 5, 5), danish(2025, 5, 6)], BookingStatus.cancelled, pupils=30)
    world.book(herning, week, [danish(2025, 4, 1), danish(2025, 4, 2)], BookingStatus.cancelled,
               statuses=[BookingStatus.completed, BookingStatus.cancelled], pupils=19, girls=9)
    girls_plan = world.book(gym, girls_day, [danish(2025, 3, 6)], BookingStatus.completed, pupils=15, girls=15, grade=11)
    mentoring_plan = world.book(herning, mentoring, [danish(2025, 9, 9)], BookingStatus.completed, pupils=22, girls=10, grade=9)

    # Mentors: two mentors in 2025 (one twice), a deleted mentor's hours, and shifts that do not count.
    m1, m2, m3 = (make_user(world.db, "mentor").id for _ in range(3))
    visited = mentoring_plan.lead._date
    world.shift(mentoring, visited.starts_at, m1, minutes=150, date=visited)
    world.shift(mentoring, danish(2025, 10, 1), m1, minutes=90)
    world.shift(mentoring, visited.starts_at, m2, minutes=120, date=visited)
    world.shift(mentoring, danish(2025, 10, 2), None, minutes=60)
    world.shift(mentoring, danish(2025, 10, 3), m3, status=ShiftStatus.signed_up, minutes=None)
    world.shift(mentoring, danish(2025, 10, 4), m3, status=ShiftStatus.left, minutes=None)
    world.shift(mentoring, danish(2026, 1, 5), m3, minutes=45)

    # Evaluations: answered ones of counted bookings count, their scale answers make the score.
    first_2025 = counted(world, 2025)[0]
    world.evaluation(first_2025.lead, scores=[4, 5], yes_no=1)
    world.evaluation(girls_plan.lead, scores=[3])
    world.evaluation(first_2025.lead, answered=False)
    course_2025 = next(p for p in counted(world, 2025) if len(p.rows) == 3)
    world.evaluation(course_2025.rows[2], scores=[2])  # a later date's row of a counted course
    not_counted = next(p for p in world.planned if p.statuses[0] == BookingStatus.cancelled)
    world.evaluation(not_counted.lead, scores=[1])
    world.commit()
    return {"m1": m1, "m2": m2}


def test_every_figure_equals_a_direct_count(db, world):
    build_scenario(world)
    for year in (2024, 2025, 2026):
        plans = counted(world, year)
        got = count(db, year)
        expected = expected_totals(plans)
        assert {k: got["totals"][k] for k in expected} == expected, year
        assert got["totals"]["schools_total"] == all_schools(db)
        for row in got["by_municipality"]:
            in_it = [p for p in plans if p.school.municipality == row["municipality"]]
            assert row == {
                "municipality": row["municipality"],
                "bookings": len(in_it),
                "pupils": sum(p.pupils for p in in_it),
                "girls": sum(p.girls or 0 for p in in_it),
                "schools_reached": len({p.school.id for p in in_it}),
                "schools_total": all_schools(db, row["municipality"]),
                "suppressed": False,
            }
        assert [r["municipality"] for r in got["by_municipality"]] == list(MUNICIPALITY_NAMES)
        assert len(MUNICIPALITY_NAMES) == 19
        for row in got["by_type"]:
            of_type = [p for p in plans if p.offer_type == row["type"]]
            assert (row["bookings"], row["pupils"], row["girls"]) == (
                len(of_type), sum(p.pupils for p in of_type), sum(p.girls or 0 for p in of_type))
        assert [r["type"] for r in got["by_type"]] == [t.value for t in OfferType]
        for row in got["by_theme"]:
            of_theme = [p for p in plans if row["theme"] in p.themes]
            assert (row["bookings"], row["pupils"], row["girls"]) == (
                len(of_theme), sum(p.pupils for p in of_theme), sum(p.girls or 0 for p in of_theme))
        assert [r["theme"] for r in got["by_theme"]] == [t.value for t in Theme]

    # The figures of 2025 by hand, so the direct count itself is checked once.
    t = count(db, 2025)["totals"]
    # confirmed + completed at Aarhus (21, 21), the edge ones at 2024-12-31 23:30 UTC (13) and
    # 2025-12-31 22:59 UTC (17), the three-date course (24), the course whose first date is
    # 2025-10-06 (26), the half-cancelled course (19), Girls Day (15), mentoring (22).
    assert t["bookings"] == t["classes"] == 9
    assert t["pupils"] == 21 + 21 + 13 + 17 + 24 + 26 + 19 + 15 + 22
    assert t["girls"] == 9 + 9 + 0 + 8 + 12 + 0 + 9 + 15 + 10
    assert t["girls_share"] == round(t["girls"] / (t["pupils"] - 13 - 26), 4)
    assert t["company_weeks"] == 3 and t["girls_day_places"] == 15
    assert t["providers_active"] == 3  # the course's, the week's, the university (Girls Day, mentoring)


def test_mentors_and_evaluations_equal_a_direct_count(db, world):
    build_scenario(world)
    t = count(db, 2025)["totals"]
    start, end = bounds(2025)
    done = [s for s in world.shifts if s[2] == ShiftStatus.completed and start <= s[0] < end]
    assert t["mentors_active"] == len({s[1] for s in done if s[1] is not None}) == 2
    assert t["mentor_hours"] == round(sum(s[3] for s in done) / 60, 2) == round((150 + 90 + 120 + 60) / 60, 2)
    # Answered requests of counted bookings: the first 2025 booking's, Girls Day's, the course's
    # later date's; not the unanswered one nor the cancelled booking's.
    assert t["evaluations"] == 3
    assert t["evaluation_score"] == round((4 + 5 + 3 + 2) / 4, 2)  # the yes/no answer is no score
    t26 = count(db, 2026)["totals"]
    assert (t26["mentors_active"], t26["mentor_hours"]) == (1, 0.75)
    assert (t26["evaluations"], t26["evaluation_score"]) == (0, None)


def test_school_year_runs_from_august_to_july(db, world):
    build_scenario(world)
    for year in (2024, 2025):
        plans = counted(world, year, school_year=True)
        got = count(db, year, school_year=True)
        expected = expected_totals(plans)
        assert {k: got["totals"][k] for k in expected} == expected
        assert (got["period"], got["school_year"]) == (f"{year}/{(year + 1) % 100:02d}", True)
        assert (got["period_start"], got["period_end"]) == (f"{year}-08-01", f"{year + 1}-07-31")


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        ({"municipality": "Herning"}, lambda p: p.school.municipality == "Herning"),
        ({"type": OfferType.company_week}, lambda p: p.offer_type == OfferType.company_week),
        ({"theme": Theme.ict}, lambda p: Theme.ict in p.themes),
        ({"level": "upper_secondary"}, lambda p: p.grade >= 11),
        ({"level": "primary"}, lambda p: p.grade <= 10),
        ({"provider_kind": ProviderKind.university}, lambda p: p.provider.provider_kind == ProviderKind.university),
        ({"type": OfferType.expert}, lambda p: False),
    ],
)
def test_filters_equal_a_direct_count(db, world, filters, keep):
    build_scenario(world)
    plans = counted(world, 2025, keep=keep)
    got = count(db, 2025, **filters)
    expected = expected_totals(plans)
    assert {k: got["totals"][k] for k in expected} == expected
    assert got["filters"] == {"municipality": None, "type": None, "theme": None, "level": None,
                              "provider_kind": None, **{k: str(v) for k, v in filters.items()}}


def test_schools_total_follows_the_municipality_and_level(db, world):
    build_scenario(world)
    assert count(db, 2025, municipality="Samsø")["totals"]["schools_total"] == all_schools(db, "Samsø")
    upper = db.exec(select(Organisation).where(Organisation.school_level == SchoolLevel.upper_secondary)).all()
    assert count(db, 2025, level="upper_secondary")["totals"]["schools_total"] == len(upper)


def test_mentors_under_filters(db, world):
    ids = build_scenario(world)
    # The date with a booking of Herning's school: both its mentors; the others had no class.
    herning = count(db, 2025, municipality="Herning")["totals"]
    assert (herning["mentors_active"], herning["mentor_hours"]) == (2, round(270 / 60, 2))
    assert count(db, 2025, municipality="Aarhus")["totals"]["mentors_active"] == 0
    assert count(db, 2025, type=OfferType.course)["totals"]["mentor_hours"] == 0
    mentoring = count(db, 2025, type=OfferType.mentoring)["totals"]
    assert (mentoring["mentors_active"], mentoring["mentor_hours"]) == (2, 7.0)
    assert count(db, 2025, level="upper_secondary")["totals"]["mentors_active"] == 0
    assert ids  # the mentors exist


def test_series_gives_each_years_totals(db, world):
    build_scenario(world)
    trend = service.series(db, years=[2024, 2025, 2026], now=T0, max_age_minutes=0)
    assert [row["year"] for row in trend] == [2024, 2025, 2026]
    for row in trend:
        assert row["bookings"] == len(counted(world, row["year"]))
        assert row["as_of"] == T0.isoformat()


def test_a_bad_filter_names_its_field(db):
    from app.errors import InvalidInput

    for bad, name in (({"year": 1999}, "year"), ({"year": 2101}, "year"), ({"year": 2025, "municipality": "Oslo"}, "municipality"),
                      ({"year": 2025, "level": "college"}, "level"), ({"year": 2025, "type": "party"}, "type")):
        with pytest.raises(InvalidInput) as error:
            service.figures(db, now=T0, **bad)
        assert error.value.field == name


# --- suppression -------------------------------------------------------------------------------------


def test_small_cells_below_municipality_level_are_suppressed(db, world):
    samso, aarhus = world.school("Samsø"), world.school("Aarhus")
    course = world.offer(OfferType.course, (Theme.food,))
    week = world.offer(OfferType.company_week, (Theme.industry,))
    mentoring = world.offer(OfferType.mentoring, (Theme.health,))
    world.book(samso, course, [danish(2025, 3, 3)], BookingStatus.confirmed, pupils=3, girls=1)
    world.book(samso, week, [danish(2025, 3, 4)], BookingStatus.confirmed, pupils=20, girls=9)
    world.book(aarhus, course, [danish(2025, 3, 5)], BookingStatus.confirmed, pupils=4, girls=2)
    visit = world.book(samso, mentoring, [danish(2025, 5, 5)], BookingStatus.completed, pupils=18, girls=9)
    mentor = make_user(db, "mentor").id
    world.shift(mentoring, visit.dates[0], mentor, minutes=120, date=visit.lead._date)
    world.commit()

    # Region and municipality level: shown as counted.
    region = count(db, 2025)
    assert region["totals"]["pupils"] == 45 and region["totals"]["mentors_active"] == 1
    assert not any(r["suppressed"] for r in region["by_type"] + region["by_theme"] + region["by_municipality"])
    samso_figures = count(db, 2025, municipality="Samsø")
    assert samso_figures["totals"]["suppressed"] is False and samso_figures["totals"]["mentors_active"] == 1

    # One municipality broken down by type and theme: the 3 pupils' cells are withheld.
    by_type = {r["type"]: r for r in samso_figures["by_type"]}
    assert by_type["course"] == {"type": "course", "bookings": None, "pupils": None, "girls": None, "suppressed": True}
    assert by_type["company_week"] == {"type": "company_week", "bookings": 1, "pupils": 20, "girls": 9, "suppressed": False}
    assert by_type["expert"]["suppressed"] is False and by_type["expert"]["pupils"] == 0  # zero is no one
    by_theme = {r["theme"]: r for r in samso_figures["by_theme"]}
    assert by_theme["food"]["suppressed"] is True and by_theme["food"]["pupils"] is None
    assert by_theme["industry"]["pupils"] == 20

    # A kind of activity broken down by municipality: Samsø's and Aarhus' small cells are withheld.
    courses = {r["municipality"]: r for r in count(db, 2025, type=OfferType.course)["by_municipality"]}
    assert courses["Samsø"]["suppressed"] is True and courses["Samsø"]["pupils"] is None
    assert courses["Samsø"]["schools_total"] == all_schools(db, "Samsø")  # organisations, not people
    assert courses["Aarhus"]["suppressed"] is True
    assert courses["Herning"] == {**courses["Herning"], "pupils": 0, "suppressed": False}

    # A municipality and a type together: the totals are such a cell.
    cell = count(db, 2025, municipality="Samsø", type=OfferType.course)["totals"]
    assert cell["suppressed"] is True
    assert all(cell[name] is None for name in service.BOOKING_FIGURES)
    assert cell["schools_total"] == all_schools(db, "Samsø")
    single_mentor = count(db, 2025, municipality="Samsø", type=OfferType.mentoring)["totals"]
    assert single_mentor["pupils"] == 18
    assert (single_mentor["mentors_active"], single_mentor["mentor_hours"], single_mentor["suppressed"]) == (None, None, True)


# --- the store ---------------------------------------------------------------------------------------


def test_reads_serve_the_stored_figures_and_count_only_figures_nobody_read_lately(db, world):
    school, course = world.school("Odder"), world.offer(OfferType.course)
    world.book(school, course, [danish(2025, 6, 1)], BookingStatus.confirmed, pupils=10)
    world.commit()
    first = service.figures(db, year=2025, now=T0)
    assert first["as_of"] == T0.isoformat() and first["totals"]["pupils"] == 10
    stored = db.get(BarometerFigures, "v1:year=2025")
    assert stored is not None and (stored.computed_at, stored.read_at) == (T0, T0)
    # The count's temporary table is gone with it.
    assert not inspect(db.connection()).has_table(service.COUNTED_TABLE)

    world.book(school, course, [danish(2025, 6, 2)], BookingStatus.confirmed, pupils=7)
    world.commit()
    # Past any max age the stored figures are served (the worker recounts them), as of then.
    later = service.figures(db, year=2025, now=T0 + timedelta(hours=3))
    assert later["as_of"] == T0.isoformat() and later["totals"]["pupils"] == 10
    db.expire_all()
    assert db.get(BarometerFigures, "v1:year=2025").read_at == T0 + timedelta(hours=3)
    # A day old, they are counted in the read.
    day_old = service.figures(db, year=2025, now=T0 + timedelta(days=1))
    assert day_old["as_of"] == (T0 + timedelta(days=1)).isoformat() and day_old["totals"]["pupils"] == 17
    # max_age_minutes=0 counts now.
    world.book(school, course, [danish(2025, 6, 3)], BookingStatus.confirmed, pupils=1)
    world.commit()
    assert service.figures(db, year=2025, now=T0 + timedelta(days=1, minutes=1), max_age_minutes=0)["totals"]["pupils"] == 18


def test_keys_are_canonical(db):
    a = service.filters(year=2025, theme="ict", municipality="Aarhus", type="course")
    b = service.filters(year=2025, type=OfferType.course, municipality="Aarhus", theme=Theme.ict)
    assert service.figures_key(a) == service.figures_key(b) == "v1:year=2025&municipality=Aarhus&type=course&theme=ict"
    assert service.filters_of_key(service.figures_key(a)) == a
    school_year = service.filters(year=2025, school_year=True, municipality="Ringkøbing-Skjern")
    assert service.filters_of_key(service.figures_key(school_year)) == school_year
    assert service.filters_of_key("v0:year=2025") is None


def test_targets_are_read_fresh_beside_the_stored_figures(db, world):
    from app.barometer.models import Target

    school, course = world.school("Odder"), world.offer(OfferType.course)
    world.book(school, course, [danish(2025, 6, 1)], BookingStatus.confirmed, pupils=10)
    world.commit()
    assert service.figures(db, year=2025, now=T0, max_age_minutes=15)["targets"] == []
    db.add(Target(indicator="pupils", year=2025, value=100, set_at=T0))
    db.add(Target(indicator="pupils", year=2025, municipality="Odder", value=20, set_at=T0))
    db.commit()
    region = service.figures(db, year=2025, now=T0 + timedelta(minutes=1), max_age_minutes=15)
    assert region["as_of"] == T0.isoformat()  # the stored figures, the new target beside them
    assert region["targets"] == [{"indicator": "pupils", "municipality": None, "target": 100.0, "actual": 10.0}]
    odder = service.figures(db, year=2025, municipality="Odder", now=T0, max_age_minutes=15)
    assert odder["targets"] == [{"indicator": "pupils", "municipality": "Odder", "target": 20.0, "actual": 10.0}]
    assert service.figures(db, year=2025, type="course", now=T0, max_age_minutes=15)["targets"] == []


def test_refresh_counts_every_stored_key_and_the_current_years(db, world):
    school, course = world.school("Odder"), world.offer(OfferType.course)
    world.book(school, course, [danish(2025, 6, 1)], BookingStatus.confirmed, pupils=10)
    world.commit()
    service.figures(db, year=2025, type="course", now=T0, max_age_minutes=15)
    db.add(BarometerFigures(key="v0:old-shape", figures="{}", computed_at=T0))
    db.commit()
    world.book(school, course, [danish(2025, 6, 2)], BookingStatus.confirmed, pupils=5)
    world.commit()

    assert service.refresh(db, now=T0 + timedelta(minutes=1)) == 5
    keys = set(db.exec(select(BarometerFigures.key)).all())
    # T0 is March 2026: calendar years 2026 and 2025, school years 2025/26 and 2024/25.
    assert keys == {"v1:year=2025&type=course", "v1:year=2026", "v1:year=2025",
                    "v1:school_year=2025", "v1:school_year=2024"}
    again = service.figures(db, year=2025, type="course", now=T0 + timedelta(minutes=2), max_age_minutes=15)
    assert again["as_of"] == (T0 + timedelta(minutes=1)).isoformat() and again["totals"]["pupils"] == 15


def test_the_workers_job_keeps_figures_read_lately_fresh_and_drops_the_others(db, world):
    school, course = world.school("Odder"), world.offer(OfferType.course)
    world.book(school, course, [danish(2026, 2, 2)], BookingStatus.confirmed, pupils=10)
    world.commit()
    read = ({"year": 2026, "municipality": "Odder"}, {"year": 2026, "type": "course"}, {"year": 2025})
    for filters in read:
        service.figures(db, now=T0, **filters)

    def computed_at():
        db.expire_all()
        return {f.key: f.computed_at for f in db.exec(select(BarometerFigures)).all()}

    # T0 is March 2026: the missing core figures (2026, school years 2025/26 and 2024/25) are
    # counted at once; nothing read is half its max age old yet.
    assert service.refresh_stale(db, now=T0 + timedelta(minutes=5), max_age_minutes=15) == 3
    assert service.refresh_stale(db, now=T0 + timedelta(minutes=6), max_age_minutes=15) == 0
    # Half the max age old, this year's figures that were read are counted anew, before a reader
    # would be served figures older than the max age; 2025 has ended and waits for half a day.
    world.book(school, course, [danish(2026, 2, 3)], BookingStatus.confirmed, pupils=5)
    world.commit()
    half = T0 + timedelta(minutes=7, seconds=30)
    assert service.refresh_stale(db, now=half, max_age_minutes=15) == 2
    assert computed_at()["v1:year=2026&municipality=Odder"] == half
    assert service.figures(db, year=2026, type="course", now=half)["totals"]["pupils"] == 15
    assert service.refresh_stale(db, now=T0 + timedelta(hours=12), max_age_minutes=15, limit=2) == 2

    # Figures nobody read within a day are dropped (the next read counts them); read ones stay,
    # and so do the core figures, read or not.
    service.figures(db, year=2026, municipality="Odder", now=T0 + timedelta(hours=2))
    service.refresh_stale(db, now=T0 + timedelta(days=1, minutes=1), max_age_minutes=15)
    assert set(computed_at()) == {"v1:year=2026&municipality=Odder", "v1:year=2026", "v1:year=2025",
                                  "v1:school_year=2025", "v1:school_year=2024"}


def test_the_worker_runs_the_job():
    import inspect

    from app import worker

    assert "barometer.refresh_stale(" in inspect.getsource(worker.run_once)


def test_refresh_barometer_on_the_command_line(db, world, monkeypatch, capsys):
    from app import __main__ as cli

    @contextmanager
    def the_tests_session(_engine):
        yield db

    monkeypatch.setattr(cli, "make_engine", lambda *args, **kwargs: None)
    monkeypatch.setattr(cli, "Session", the_tests_session)
    monkeypatch.setattr(cli, "utcnow", lambda: T0)
    assert cli.main(["refresh-barometer"]) == 0
    assert "Counted 4 sets of barometer figures anew." in capsys.readouterr().out
    assert db.get(BarometerFigures, "v1:year=2026").computed_at == T0


# --- random bookings ---------------------------------------------------------------------------------

MUNICIPALITIES = ("Aarhus", "Herning", "Samsø", "Lemvig")
# Times around the edges of 2025 (and of the school year) in UTC, and ordinary ones.
MOMENTS = st.sampled_from([
    datetime(2024, 12, 31, 22, 59, tzinfo=UTC), datetime(2024, 12, 31, 23, 0, tzinfo=UTC),
    datetime(2025, 1, 1, 0, 0, tzinfo=UTC), datetime(2025, 6, 15, 9, 0, tzinfo=UTC),
    datetime(2025, 7, 31, 21, 59, tzinfo=UTC), datetime(2025, 7, 31, 22, 0, tzinfo=UTC),
    datetime(2025, 12, 31, 22, 59, tzinfo=UTC), datetime(2025, 12, 31, 23, 0, tzinfo=UTC),
    datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
]) | st.datetimes(min_value=datetime(2024, 10, 1), max_value=datetime(2026, 3, 1), timezones=st.just(UTC))

BOOKING = st.fixed_dictionaries({
    "municipality": st.sampled_from(MUNICIPALITIES),
    "school": st.integers(0, 1),
    "type": st.sampled_from([OfferType.course, OfferType.company_week, OfferType.girls_day]),
    "status": st.sampled_from(list(BookingStatus)),
    "dates": st.lists(MOMENTS, min_size=1, max_size=3),
    "pupils": st.integers(1, 30),
    "girls": st.none() | st.integers(0, 30),
})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bookings=st.lists(BOOKING, max_size=12))
def test_random_bookings_equal_a_direct_count(db, bookings):
    world = World(db)
    try:
        schools = {(m, n): world.school(m) for m in MUNICIPALITIES for n in (0, 1)}
        offers = {t: world.offer(t) for t in (OfferType.course, OfferType.company_week, OfferType.girls_day)}
        for b in bookings:
            world.book(schools[b["municipality"], b["school"]], offers[b["type"]], b["dates"], b["status"],
                       pupils=b["pupils"], girls=None if b["girls"] is None else min(b["girls"], b["pupils"]))
        world.commit()
        for year, school_year in ((2025, False), (2024, True), (2025, True)):
            plans = counted(world, year, school_year)
            got = count(db, year, school_year=school_year)
            expected = expected_totals(plans)
            assert {k: got["totals"][k] for k in expected} == expected
            for row in got["by_municipality"]:
                in_it = [p for p in plans if p.school.municipality == row["municipality"]]
                assert (row["bookings"], row["pupils"], row["girls"], row["schools_reached"]) == (
                    len(in_it), sum(p.pupils for p in in_it), sum(p.girls or 0 for p in in_it),
                    len({p.school.id for p in in_it}))
                assert row["schools_total"] == all_schools(db, row["municipality"])
    finally:
        db.rollback()
        world.remove_all()
