"""Targets and national statistics (app/barometer/targets.py): who may set what, the checks, and the
all-or-nothing CSV import with a message per wrong row."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from app.barometer import targets
from app.barometer.models import NationalFigure, Target
from app.errors import Forbidden, InvalidInput, NotFound
from app.i18n import language
from tests.factories import make_user

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def region(db):
    return make_user(db, "coordinator")


@pytest.fixture
def aarhus(db):
    return make_user(db, "coordinator", municipality="Aarhus")


def test_a_coordinator_sets_a_target_and_setting_it_again_changes_it(db, region):
    first = targets.set_target(db, region, indicator="pupils", year=2030, municipality=None, value=5000, now=NOW)
    again = targets.set_target(
        db, region, indicator="pupils", year=2030, municipality=None, value=6000, note="The pact", now=NOW
    )
    assert again.id == first.id
    assert (again.value, again.note, again.set_by_id) == (6000, "The pact", region.id)
    assert [t.value for t in targets.targets_for(db, 2030, None)] == [6000]
    assert targets.targets_for(db, 2030, "Aarhus") == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"indicator": "happiness"}, "indicator"),
        ({"year": 1999}, "year"),
        ({"year": 2200}, "year"),
        ({"municipality": "Atlantis"}, "municipality"),
        ({"value": -1}, "value"),
        ({"value": float("nan")}, "value"),
        ({"indicator": "girls_share", "value": 120}, "value"),
        ({"indicator": "evaluation_score", "value": 7}, "value"),
        ({"note": "x" * 301}, "note"),
    ],
)
def test_a_wrong_target_is_refused_naming_its_field(db, region, fields, field):
    values = {"indicator": "pupils", "year": 2030, "municipality": None, "value": 10, **fields}
    with pytest.raises(InvalidInput) as refused:
        targets.set_target(db, region, now=NOW, **values)
    assert refused.value.field == field
    assert db.exec(select(Target)).all() == []


def test_a_municipal_coordinator_keeps_only_their_own_municipality(db, region, aarhus):
    own = targets.set_target(db, aarhus, indicator="bookings", year=2027, municipality="Aarhus", value=40, now=NOW)
    for municipality in (None, "Herning"):
        with pytest.raises(InvalidInput) as refused:
            targets.set_target(db, aarhus, indicator="bookings", year=2027, municipality=municipality, value=4, now=NOW)
        assert refused.value.field == "municipality"
    regional = targets.set_target(db, region, indicator="bookings", year=2027, municipality=None, value=400, now=NOW)
    herning = targets.set_target(db, region, indicator="bookings", year=2027, municipality="Herning", value=20, now=NOW)
    for other in (regional, herning):
        with pytest.raises(NotFound):
            targets.delete_target(db, aarhus, other.id)
    # A municipality's coordinator lists the region's targets and their own, not other municipalities'.
    assert {t.id for t in targets.list_targets(db, municipality="Aarhus")} == {own.id, regional.id}
    targets.delete_target(db, aarhus, own.id)
    targets.delete_target(db, region, herning.id)
    assert [t.id for t in db.exec(select(Target)).all()] == [regional.id]


@pytest.mark.parametrize("role", ["teacher", "provider", "mentor"])
def test_only_staff_set_targets_or_import(db, role):
    actor = make_user(db, role)
    with pytest.raises(Forbidden):
        targets.set_target(db, actor, indicator="pupils", year=2030, municipality=None, value=1, now=NOW)
    with pytest.raises(Forbidden):
        targets.import_national(db, actor, "indicator;year;municipality;value\nx;2025;Aarhus;1", now=NOW)


def test_progress_measures_each_target_against_its_figure(db, region):
    for indicator, value in (("pupils", 1000), ("girls_share", 50), ("schools_reached", 10), ("mentor_hours", 100)):
        targets.set_target(db, region, indicator=indicator, year=2026, municipality=None, value=value, now=NOW)
    figures = {"totals": {"pupils": 800, "girls_share": 0.55, "schools_reached": 12, "mentor_hours": None}}
    found = {p.indicator: p for p in targets.progress(targets.targets_for(db, 2026, None), figures)}
    assert (found["pupils"].actual, found["pupils"].share, found["pupils"].reached) == (800, 0.8, False)
    assert found["girls_share"].actual == pytest.approx(55.0)  # per cent, as its target is written
    assert found["girls_share"].reached
    assert (found["schools_reached"].share, found["schools_reached"].reached) == (1.0, True)
    assert (found["mentor_hours"].actual, found["mentor_hours"].share) == (None, None)  # suppressed
    assert list(found) == ["pupils", "girls_share", "schools_reached", "mentor_hours"]  # INDICATORS' order


@pytest.mark.parametrize(
    ("raw", "number"),
    [("12,5", 12.5), ("12.5", 12.5), ("1.234,5", 1234.5), ("23,4 %", 23.4), ("-3", -3.0), ("7", 7.0),
     ("\u00a01 234,5", 1234.5), ("abc", None), ("", None), ("1,2,3", None), ("12..5", None), ("nan", None)],
)
def test_numbers_are_read_as_danish_and_english_spreadsheets_write_them(raw, number):
    assert targets.parse_number(raw) == number


GOOD = """indicator;year;municipality;value;source
stem_start_share;2025;Aarhus;23,4;Danmarks Statistik
stem_start_share;2025;Herning;19,8;Danmarks Statistik
stem_start_share;2024;aarhus;22;Danmarks Statistik
"""


def test_a_national_csv_is_imported_and_importing_again_replaces_the_figures(db, region):
    assert targets.import_national(db, region, GOOD, now=NOW) == (3, [])
    figures = {(f.indicator, f.year, f.municipality): f.value for f in db.exec(select(NationalFigure)).all()}
    assert figures == {
        ("stem_start_share", 2025, "Aarhus"): 23.4,
        ("stem_start_share", 2025, "Herning"): 19.8,
        ("stem_start_share", 2024, "Aarhus"): 22.0,
    }
    again = "\ufeffIndikator,År,Kommune,Værdi\r\nstem_start_share,2025,Aarhus,\"24,0\"\r\n"
    assert targets.import_national(db, region, again, now=NOW) == (1, [])
    rows = db.exec(select(NationalFigure).where(NationalFigure.municipality == "Aarhus", NationalFigure.year == 2025)).all()
    assert [(r.value, r.source) for r in rows] == [(24.0, "")]
    year, shown = targets.national_figures(db, 2026)  # the latest year before, when none for 2026
    assert year == 2025 and shown["stem_start_share"]["Herning"].value == 19.8


def test_a_file_with_any_wrong_row_imports_nothing_and_names_every_wrong_row(db, region):
    text = """indicator;year;municipality;value;source
stem_start_share;2025;Aarhus;23,4;ok
stem_start_share;2025;Atlantis;1;x
stem_start_share;25;Herning;1;x
stem_start_share;2025;Herning;mange;x
stem_start_share;2025;Aarhus;3;x
Share Of Something;2025;Skive;3;x
;2025;Skive;3;x
"""
    with language("en"):
        count, errors = targets.import_national(db, region, text, now=NOW)
        messages = [str(e) for e in errors]
    assert count == 0
    assert db.exec(select(NationalFigure)).all() == []
    assert [e.line for e in errors] == [3, 4, 5, 6, 7, 8]
    assert "Atlantis" in messages[0] and "19 municipalities" in messages[0]
    assert "“25”" in messages[1] and "year" in messages[1]
    assert "“mange” is not a number" in messages[2]
    assert "line 2" in messages[3]  # the same figure twice in one file
    assert "short code" in messages[4]
    assert "missing" in messages[5]
    assert messages[0].startswith("Line 3:")


@pytest.mark.parametrize(
    "text",
    ["", "   \n\n", "indicator;year;value\nx;2025;1", "indicator;year;municipality;value;source\n"],
)
def test_an_empty_or_headless_file_is_refused(db, region, text):
    count, errors = targets.import_national(db, region, text, now=NOW)
    assert count == 0 and len(errors) == 1
    assert db.exec(select(NationalFigure)).all() == []


def test_a_municipal_coordinator_imports_only_their_own_municipality(db, aarhus):
    with language("en"):
        count, errors = targets.import_national(db, aarhus, GOOD, now=NOW)
    assert count == 0
    assert [(e.line, "Aarhus" in e.message) for e in errors] == [(3, True)]
    own = "indicator;year;municipality;value\nstem_start_share;2025;Aarhus;23,4\n"
    assert targets.import_national(db, aarhus, own, now=NOW) == (1, [])
