"""The public barometer page and the coordinators' pages for targets and national statistics.
The figures themselves are the service's (tests of app/barometer/service.py); here most tests hand
the page known figures, so that what it shows of them can be checked exactly."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.barometer import service, targets
from app.barometer.models import NationalFigure, Target
from app.bookings.models import Booking, BookingStatus
from app.deps import get_now
from app.geography import MUNICIPALITY_NAMES
from tests.factories import (
    csrf,
    error_summary,
    log_in,
    make_school,
    make_user,
    post_form,
    published_session,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def fake_totals(year: int, **filters) -> dict:
    n = (year - 2020) * 10 + (3 if filters.get("municipality") else 0)
    return {
        "bookings": n, "classes": n, "pupils": n * 20, "girls": n * 9, "girls_share": 0.45,
        "schools_reached": n // 2, "schools_total": 160, "providers_active": 7, "mentors_active": 4,
        "mentor_hours": 12.5, "evaluations": 3, "evaluation_score": 4.25, "company_weeks": 2,
        "girls_day_places": 40, "suppressed": False,
    }


@pytest.fixture
def calls(monkeypatch):
    """The page's calls of the service, answered with figures that depend on the year."""
    seen: list[dict] = []

    def figures(db, *, year, school_year=False, now, **filters):
        seen.append({"year": year, "school_year": school_year, **filters})
        rows = [
            {"municipality": m, "bookings": i, "pupils": i * 20, "girls": i * 9, "schools_reached": i % 4,
             "schools_total": 8, "suppressed": False}
            for i, m in enumerate(MUNICIPALITY_NAMES)
        ]
        rows[MUNICIPALITY_NAMES.index("Samsø")].update(bookings=None, pupils=None, girls=None, schools_reached=None, suppressed=True)
        return {
            "year": year, "as_of": NOW.isoformat(), "totals": fake_totals(year, **filters),
            "by_municipality": rows,
            "by_type": [{"type": "company_week", "bookings": 2, "pupils": 44, "girls": 20, "suppressed": False},
                        {"type": "girls_day", "bookings": 3, "pupils": 40, "girls": 40, "suppressed": False}],
            "by_theme": [{"theme": "food", "bookings": 4, "pupils": 80, "girls": 31, "suppressed": False}],
            "targets": [],
        }

    def series(db, *, years, school_year=False, now, **filters):
        return [{"year": y, "period": str(y), "as_of": NOW.isoformat(), **fake_totals(y, **filters)} for y in years]

    monkeypatch.setattr(service, "figures", figures)
    monkeypatch.setattr(service, "series", series)
    return seen


@pytest.fixture
def fixed_clock(app):
    async def now():
        return NOW

    app.dependency_overrides[get_now] = now
    return NOW


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_anyone_reads_the_barometer_with_charts_tables_last_year_and_the_trend(client, calls, fixed_clock):
    response = client.get("/barometer")
    assert response.status_code == 200
    html = response.text
    assert calls[0] == {"year": 2026, "school_year": False}
    text = text_of(html)
    # Headline: 2026's pupils (60 bookings x 20) beside 2025's, with the change.
    assert "1.200" in text and "2025: 1.000" in text
    assert re.search(r"(up|op) 200 \(20 %\)", text)
    assert "45 %" in text  # the girls' share in per cent
    # Each chart is an image with a name, described by the table beside it, which has a caption.
    for chart, table in (("chart-trend", "trend-caption"), ("chart-types", "types-caption"),
                         ("chart-municipalities", "municipalities-caption")):
        assert re.search(rf'role="img" aria-labelledby="{chart}-title" aria-describedby="{table}"', html)
        assert f'<title id="{chart}-title">' in html
        assert f'<caption id="{table}">' in html
    # The trend over five years, in the table too.
    assert all(f">{y}</th>" in html for y in range(2022, 2027))
    # All 19 municipalities, ranked in the chart; a suppressed cell says it is hidden.
    assert all(m in html for m in MUNICIPALITY_NAMES)
    samsø = re.search(r"<th scope=\"row\">Samsø</th>(.*?)</tr>", html, re.S).group(1)
    assert "–" not in samsø and re.search(r"hidden|skjult", samsø)
    # as_of and the open data.
    assert re.search(r"(updated|opdateret) 7\. dec\. 2026 13\.00|updated 7 Dec 2026, 13:00", text)
    for link in ("/api/v1/barometer.csv?year=2026", "/api/v1/barometer.xlsx?year=2026",
                 "/api/v1/barometer?year=2026", "/api/v1/barometer/datapackage.json"):
        assert f'href="{link}"' in html
    assert 'href="/barometer" aria-current="page"' in html  # in the main menu


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("year=2024", {"year": 2024}),
        ("period=school_year&year=2024", {"year": 2024, "school_year": True}),
        ("municipality=Aarhus", {"municipality": "Aarhus"}),
        ("type=company_week", {"type": "company_week"}),
        ("theme=health", {"theme": "health"}),
        ("level=upper_secondary", {"level": "upper_secondary"}),
        ("provider_kind=university", {"provider_kind": "university"}),
        ("year=2023&municipality=Skive&type=girls_day&theme=ict&level=primary&provider_kind=company",
         {"year": 2023, "municipality": "Skive", "type": "girls_day", "theme": "ict", "level": "primary",
          "provider_kind": "company"}),
    ],
)
def test_every_filter_reaches_the_figures(client, calls, fixed_clock, query, expected):
    response = client.get(f"/barometer?{query}")
    assert response.status_code == 200
    assert calls[0] == {"year": 2026, "school_year": False} | expected
    if "school_year" in expected:
        assert "2024/25" in response.text and "2023/24: " in text_of(response.text)
    if "municipality" in expected:
        assert f'<tr class="chosen">\n        <th scope="row">{expected["municipality"]}</th>' in response.text


@pytest.mark.parametrize(
    "query",
    ["year=abc", "year=1890", "year=2999", "year=99999999999999999999", "municipality=Atlantis",
     "type=rocket", "theme=%C3%A6", "level=phd", "provider_kind=bank", "period=decade",
     "year=2025&municipality=" + "x" * 5000, "year=-1&type=&theme="],
)
def test_a_value_the_page_does_not_know_is_ignored_with_a_message(client, calls, fixed_clock, query):
    response = client.get(f"/barometer?{query}")
    assert response.status_code == 200
    assert re.search(r"ignored|ignoreret|ikke forstået", response.text)
    assert calls[0]["year"] in range(2016, 2027)
    assert set(calls[0]) <= {"year", "school_year", "municipality", "type", "theme", "level", "provider_kind"}


def test_htmx_gets_only_the_results(client, calls, fixed_clock):
    response = client.get("/barometer?year=2025", headers={"HX-Request": "true", "HX-Target": "barometer_results"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="barometer_results"')
    assert "<form" not in response.text


def test_the_page_shows_targets_and_progress(client, db, calls, fixed_clock):
    coordinator = make_user(db, "coordinator")
    targets.set_target(db, coordinator, indicator="pupils", year=2026, municipality=None, value=1500,
                       note="Pagtens mål", now=NOW)
    targets.set_target(db, coordinator, indicator="girls_share", year=2026, municipality=None, value=40, now=NOW)
    targets.set_target(db, coordinator, indicator="bookings", year=2026, municipality="Aarhus", value=126, now=NOW)
    text = text_of(client.get("/barometer").text)
    assert re.search(r"1\.200 (of the target|af målet) 1\.500 \(80 %\)", text)
    assert re.search(r"45 % (of the target|af målet) 40 % \(100 %\)", text)
    assert "Pagtens mål" in text
    assert not re.search(r"(of the target|af målet) 126", text)  # Aarhus's target is not the region's
    aarhus = text_of(client.get("/barometer?municipality=Aarhus").text)
    assert re.search(r"63 (of the target|af målet) 126 \(50 %\)", aarhus)  # Aarhus's own target only
    assert "Pagtens mål" not in aarhus


def test_national_figures_are_shown_beside_the_municipalities(client, db, calls, fixed_clock):
    coordinator = make_user(db, "coordinator")
    csv = "indicator;year;municipality;value;source\nstem_start_share;2025;Aarhus;23,4;Danmarks Statistik\n"
    assert targets.import_national(db, coordinator, csv, now=NOW) == (1, [])
    html = client.get("/barometer?year=2026").text
    row = re.search(r"<th scope=\"row\">Aarhus</th>(.*?)</tr>", html, re.S).group(1)
    assert re.search(r"23[,.]4", row)
    assert "stem start share" in html and "Danmarks Statistik" in html
    assert "(2025)" in html  # the latest year there are national figures of


def test_the_page_counts_real_bookings(client, db, fixed_clock):
    """With the real service: a confirmed booking of this year is counted on the page."""
    offer, session = published_session(db)
    session.starts_at = NOW - timedelta(days=30)
    session.ends_at = session.starts_at + timedelta(hours=3)
    school = make_school(db, municipality="Skive")
    teacher = make_user(db, "teacher", organisation=school)
    db.add(Booking(session_id=session.id, school_id=school.id, teacher_id=teacher.id, status=BookingStatus.confirmed,
                   class_name="8.b", grade=8, pupils=23, girls=11))
    db.commit()
    response = client.get("/barometer?municipality=Skive")
    assert response.status_code == 200
    row = re.search(r"<th scope=\"row\">Skive</th>(.*?)</tr>", response.text, re.S).group(1)
    assert ">23<" in row and ">11<" in row


# --- targets (coordinators) ----------------------------------------------------------------------


def test_a_coordinator_sets_and_deletes_a_target(client, db, settings, fixed_clock):
    coordinator = make_user(db, "coordinator")
    log_in(client, db, coordinator, settings)
    assert client.get("/barometer/targets").status_code == 200
    response = post_form(client, "/barometer/targets",
                         {"indicator": "pupils", "year": "2030", "value": "12.000,5", "note": "Pagten"})
    assert (response.status_code, response.headers["location"]) == (303, "/barometer/targets?notice=saved")
    target = db.exec(select(Target)).one()
    assert (target.indicator, target.year, target.municipality, target.value) == ("pupils", 2030, None, 12000.5)
    page = client.get("/barometer/targets?notice=saved").text
    assert "Pagten" in page and "2030" in page
    response = post_form(client, "/barometer/targets", {"delete": str(target.id)})
    assert response.status_code == 303
    assert db.exec(select(Target)).all() == []


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"year": "2030", "value": "1"}, "indicator"),
        ({"indicator": "luck", "year": "2030", "value": "1"}, "indicator"),
        ({"indicator": "pupils", "value": "1"}, "year"),
        ({"indicator": "pupils", "year": "tyve", "value": "1"}, "year"),
        ({"indicator": "pupils", "year": "1850", "value": "1"}, "year"),
        ({"indicator": "pupils", "year": "2030"}, "value"),
        ({"indicator": "pupils", "year": "2030", "value": "mange"}, "value"),
        ({"indicator": "girls_share", "year": "2030", "value": "150"}, "value"),
        ({"indicator": "pupils", "year": "2030", "value": "1", "municipality": "Atlantis"}, "municipality"),
    ],
)
def test_a_wrong_target_is_shown_beside_its_field(client, db, settings, fixed_clock, form, field):
    log_in(client, db, make_user(db, "coordinator"), settings)
    response = post_form(client, "/barometer/targets", form)
    assert response.status_code == 422
    assert list(error_summary(response.text)) == [field]
    assert f'id="{field}" name="{field}"' in response.text and 'aria-invalid="true"' in response.text
    assert db.exec(select(Target)).all() == []


def test_a_municipal_coordinator_sets_targets_for_their_own_municipality_only(client, db, settings, fixed_clock):
    region = make_user(db, "coordinator")
    regional = targets.set_target(db, region, indicator="pupils", year=2027, municipality=None, value=9, now=NOW)
    aarhus = make_user(db, "coordinator", municipality="Aarhus")
    log_in(client, db, aarhus, settings)
    page = client.get("/barometer/targets").text
    assert 'name="municipality" value="Aarhus"' in page and f'value="{regional.id}"' not in page  # no delete
    response = post_form(client, "/barometer/targets",
                         {"indicator": "pupils", "year": "2027", "value": "5", "municipality": "Herning"})
    assert response.status_code == 422 and list(error_summary(response.text)) == ["municipality"]
    response = post_form(client, "/barometer/targets",
                         {"indicator": "pupils", "year": "2027", "value": "5", "municipality": "Aarhus"})
    assert response.status_code == 303
    assert post_form(client, "/barometer/targets", {"delete": str(regional.id)}).status_code == 404
    assert post_form(client, "/barometer/targets", {"delete": "x"}).status_code == 404
    assert {(t.municipality, t.value) for t in db.exec(select(Target)).all()} == {(None, 9), ("Aarhus", 5)}


@pytest.mark.parametrize("role", ["teacher", "provider", "mentor"])
def test_others_are_refused_the_coordinators_pages(client, db, settings, role):
    log_in(client, db, make_user(db, role), settings)
    for path in ("/barometer/targets", "/barometer/national"):
        assert client.get(path).status_code == 403
    assert post_form(client, "/barometer/national", {"csv_text": "indicator;year;municipality;value\nx;2025;Aarhus;1"}).status_code == 403
    assert db.exec(select(NationalFigure)).all() == []


# --- national statistics (coordinators) ----------------------------------------------------------


def test_a_coordinator_uploads_national_statistics(client, db, settings, fixed_clock):
    log_in(client, db, make_user(db, "coordinator"), settings)
    csv = "indicator;year;municipality;value;source\nstem_start_share;2025;Aarhus;23,4;DST\nstem_start_share;2025;Skive;18;DST\n"
    response = client.post(
        "/barometer/national",
        data={"csrf_token": csrf(client)},
        files={"file": ("tal.csv", csv.encode("utf-8-sig"), "text/csv")},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/barometer/national?notice=saved&imported=2"
    page = client.get(response.headers["location"]).text
    assert re.search(r"2 (rows imported|rækker er indlæst)", page)
    assert re.search(r"23[,.]4", page)
    assert len(db.exec(select(NationalFigure)).all()) == 2


def test_a_pasted_file_with_wrong_rows_imports_nothing_and_lists_each_row(client, db, settings, fixed_clock):
    log_in(client, db, make_user(db, "coordinator", municipality="Aarhus"), settings)
    client.cookies.set("stem_lang", "en")
    csv = (
        "indicator;year;municipality;value;source\n"
        "stem_start_share;2025;Aarhus;23,4;DST\n"
        "stem_start_share;2025;Herning;19;DST\n"
        "stem_start_share;2025;Aarhus;24;DST\n"
        "stem_start_share;1850;Aarhus;1;DST\n"
    )
    response = post_form(client, "/barometer/national", {"csv_text": csv})
    assert response.status_code == 422
    items = re.findall(r"<li>(Line \d+: [^<]*)</li>", response.text)
    assert [item.split(":")[0] for item in items] == ["Line 3", "Line 4", "Line 5"]
    assert "Aarhus" in items[0] and "line 2" in items[1] and "1850" in items[2]
    assert "stem_start_share;2025;Herning;19;DST" in response.text  # kept in the box to correct
    assert db.exec(select(NationalFigure)).all() == []


def test_an_empty_import_is_refused_beside_the_field(client, db, settings, fixed_clock):
    log_in(client, db, make_user(db, "coordinator"), settings)
    response = post_form(client, "/barometer/national", {"csv_text": "  "})
    assert response.status_code == 422
    assert list(error_summary(response.text)) == ["csv_text"]
