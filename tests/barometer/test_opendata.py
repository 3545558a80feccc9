"""The barometer's open data (shared/API.md): JSON, CSV per table, a workbook, and a Frictionless
data package whose every resource answers at its address with the columns it describes."""

import csv
import io
import re
import zipfile
from datetime import timedelta
from xml.etree import ElementTree

import pytest

from app.barometer import opendata, service
from app.bookings.models import BookingStatus
from app.catalogue.models import OfferType, Theme
from app.db import utcnow
from tests.barometer.test_figures import World, all_schools, danish
from tests.factories import api_headers, make_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def figures_2025(db):
    world = World(db)
    aarhus, samso = world.school("Aarhus"), world.school("Samsø")
    course = world.offer(OfferType.course, (Theme.ict,))
    week = world.offer(OfferType.company_week, (Theme.industry, Theme.food))
    world.book(aarhus, course, [danish(2025, 3, 3)], BookingStatus.confirmed, pupils=22, girls=11)
    world.book(aarhus, week, [danish(2025, 10, 1), danish(2025, 10, 2)], BookingStatus.completed, pupils=25, girls=12)
    world.book(samso, course, [danish(2025, 4, 4)], BookingStatus.completed, pupils=3, girls=2)
    world.book(samso, course, [danish(2025, 4, 5)], BookingStatus.cancelled, pupils=19)
    world.commit()
    return world


def read_csv(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_json_gives_the_figures_publicly_and_cacheably(client, db, figures_2025):
    response = client.get("/api/v1/barometer", params={"year": 2025})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    body = response.json()
    assert set(body) >= {"year", "as_of", "totals", "by_municipality", "by_type", "by_theme", "targets"}
    assert set(body["totals"]) >= {
        "bookings", "classes", "pupils", "girls", "girls_share", "schools_reached", "schools_total",
        "providers_active", "mentors_active", "mentor_hours", "evaluations", "evaluation_score",
    }
    assert body["year"] == 2025 and body["school_year"] is False
    assert (body["totals"]["bookings"], body["totals"]["pupils"], body["totals"]["girls"]) == (3, 50, 25)
    assert body["totals"]["schools_total"] == all_schools(db)
    assert len(body["by_municipality"]) == 19
    aarhus = next(r for r in body["by_municipality"] if r["municipality"] == "Aarhus")
    assert (aarhus["bookings"], aarhus["pupils"], aarhus["schools_reached"]) == (2, 47, 1)
    assert {r["type"] for r in body["by_type"]} == {t.value for t in OfferType}
    # Logged in or not, the same figures.
    headers = api_headers(db, make_user(db, "teacher"), client.app.state.settings)
    assert client.get("/api/v1/barometer", params={"year": 2025}, headers=headers).json()["totals"] == body["totals"]


def test_json_filters_and_suppression(client, figures_2025):
    body = client.get("/api/v1/barometer", params={"year": 2025, "municipality": "Samsø"}).json()
    assert body["filters"]["municipality"] == "Samsø"
    assert body["totals"]["pupils"] == 3  # municipality level: shown
    course = next(r for r in body["by_type"] if r["type"] == "course")
    assert course == {"type": "course", "bookings": None, "pupils": None, "girls": None, "suppressed": True}
    week = client.get("/api/v1/barometer", params={"year": 2025, "type": "company_week", "school_year": "true"}).json()
    assert (week["school_year"], week["period"], week["totals"]["bookings"]) == (True, "2025/26", 1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": 1999}, "year"),
        ({"year": 2101}, "year"),
        ({"year": "soon"}, "year"),
        ({"year": 2025, "municipality": "Oslo"}, "municipality"),
        ({"year": 2025, "type": "party"}, "type"),
        ({"year": 2025, "theme": "sport"}, "theme"),
        ({"year": 2025, "level": "college"}, "level"),
        ({"year": 2025, "provider_kind": "school"}, "provider_kind"),
        ({"year": 2025, "school_year": "perhaps"}, "school_year"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/barometer", "/api/v1/barometer.csv", "/api/v1/barometer.xlsx"])
def test_bad_input_is_422_naming_the_field(client, path, params, field):
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["query", field]]


def test_a_bad_table_is_422(client):
    response = client.get("/api/v1/barometer.csv", params={"year": 2025, "table": "people"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "table"]


def test_the_year_defaults_to_this_one(client):
    body = client.get("/api/v1/barometer").json()
    assert body["year"] == service.current_year(utcnow())


def test_csv_tables_match_the_json(client, figures_2025):
    body = client.get("/api/v1/barometer", params={"year": 2025}).json()
    totals = read_csv(client.get("/api/v1/barometer.csv", params={"year": 2025}))
    assert len(totals) == 1
    assert {k: totals[0][k] for k in ("year", "school_year", "bookings", "pupils", "girls", "girls_share", "evaluation_score")} == {
        "year": "2025", "school_year": "false", "bookings": "3", "pupils": "50", "girls": "25",
        "girls_share": str(body["totals"]["girls_share"]), "evaluation_score": "",
    }
    response = client.get("/api/v1/barometer.csv", params={"year": 2025, "table": "by_municipality"})
    assert response.headers["cache-control"] == "public, max-age=300"
    assert 'filename="stem-barometer-2025-by_municipality.csv"' in response.headers["content-disposition"]
    rows = read_csv(response)
    assert [r["municipality"] for r in rows] == [r["municipality"] for r in body["by_municipality"]]
    for row, expected in zip(rows, body["by_municipality"], strict=True):
        assert {k: row[k] for k in ("bookings", "pupils", "girls", "schools_reached", "schools_total")} == {
            k: str(expected[k]) for k in ("bookings", "pupils", "girls", "schools_reached", "schools_total")}
    themes = read_csv(client.get("/api/v1/barometer.csv", params={"year": 2025, "table": "by_theme"}))
    assert {r["theme"]: r["pupils"] for r in themes} == {"food": "25", "climate_energy": "0", "industry": "25", "ict": "25", "health": "0"}
    # Suppressed cells are empty, marked in their row.
    samso = read_csv(client.get("/api/v1/barometer.csv", params={"year": 2025, "table": "by_type", "municipality": "Samsø"}))
    course = next(r for r in samso if r["type"] == "course")
    assert (course["pupils"], course["suppressed"]) == ("", "true")


def read_xlsx(content: bytes) -> dict[str, list[list[str]]]:
    """The sheets of a workbook, each a list of rows of cell texts (openpyxl is not a dependency)."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    book = zipfile.ZipFile(io.BytesIO(content))
    strings = []
    if "xl/sharedStrings.xml" in book.namelist():
        for item in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).findall("m:si", ns):
            strings.append("".join(t.text or "" for t in item.iter(f"{{{ns['m']}}}t")))
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    sheets = {}
    for sheet in ElementTree.fromstring(book.read("xl/workbook.xml")).find("m:sheets", ns):
        xml = ElementTree.fromstring(book.read("xl/" + targets[sheet.get(f"{{{ns['r']}}}id")]))
        rows = []
        for row in xml.find("m:sheetData", ns):
            cells = {}
            for cell in row:
                column = re.match(r"[A-Z]+", cell.get("r")).group(0)
                value = cell.find("m:v", ns)
                text = "" if value is None else value.text
                if cell.get("t") == "s":
                    text = strings[int(text)]
                cells[ord(column) - ord("A")] = text
            rows.append([cells.get(i, "") for i in range(max(cells) + 1 if cells else 0)])
        sheets[sheet.get("name")] = rows
    return sheets


def test_xlsx_has_a_sheet_per_table(client, figures_2025):
    response = client.get("/api/v1/barometer.xlsx", params={"year": 2025})
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert response.headers["cache-control"] == "public, max-age=300"
    sheets = read_xlsx(response.content)
    assert list(sheets) == list(opendata.TABLES)
    for table, columns in opendata.TABLES.items():
        assert sheets[table][0] == [c.name for c in columns]
    totals = dict(zip(sheets["totals"][0], sheets["totals"][1], strict=False))
    assert (totals["bookings"], totals["pupils"], totals["girls"]) == ("3", "50", "25")
    assert len(sheets["by_municipality"]) == 1 + 19
    aarhus = next(r for r in sheets["by_municipality"] if r[2] == "Aarhus")
    assert aarhus[3:5] == ["2", "47"]


def test_datapackage_describes_every_resource_at_its_address(client, db, settings, figures_2025):
    response = client.get("/api/v1/barometer/datapackage.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    package = response.json()
    assert re.fullmatch(r"[a-z0-9._-]+", package["name"])
    assert package["title"] and package["description"]
    assert package["licenses"][0]["name"] == "CC-BY-4.0" and package["licenses"][0]["path"].startswith("https://")
    this_year = service.current_year(utcnow())
    years = sorted({int(r["name"].rsplit("-", 1)[1]) for r in package["resources"]})
    # From the oldest date in the portal (2025 here, unless another test left older ones) to this year.
    assert years == list(range(years[0], this_year + 1)) and years[0] <= 2025
    names = [r["name"] for r in package["resources"]]
    assert len(names) == len(set(names)) == len(years) * len(opendata.TABLES)
    for resource in package["resources"]:
        assert re.fullmatch(r"[a-z0-9._-]+", resource["name"])
        assert (resource["format"], resource["mediatype"], resource["encoding"]) == ("csv", "text/csv", "utf-8")
        assert resource["profile"] == "tabular-data-resource"
        assert resource["path"].startswith(settings.base_url + "/api/v1/barometer.csv?year=")
        fields = resource["schema"]["fields"]
        for f in fields:
            assert f["type"] in {"integer", "number", "string", "boolean"} and f["description"]
        rows = read_csv(client.get(resource["path"].removeprefix(settings.base_url)))
        header = next(csv.reader(io.StringIO(client.get(resource["path"].removeprefix(settings.base_url)).text)))
        assert header == [f["name"] for f in fields]
        for row in rows:  # every value fits its field's type and enum
            for f in fields:
                value = row[f["name"]]
                if value == "":
                    continue
                {"integer": int, "number": float, "string": str, "boolean": {"true": True, "false": False}.__getitem__}[f["type"]](value)
                if "constraints" in f:
                    assert value in f["constraints"]["enum"]
    described = " ".join(f["description"] for r in package["resources"] for f in r["schema"]["fields"])
    assert "1 to 4 pupils" in described and "single active mentor" in described


def test_answers_are_cached_figures_with_as_of(client, db, figures_2025):
    first = client.get("/api/v1/barometer", params={"year": 2025}).json()
    World(db).book(figures_2025.school("Aarhus"), figures_2025.offer(), [danish(2025, 5, 5)], BookingStatus.confirmed, pupils=9)
    db.commit()
    again = client.get("/api/v1/barometer", params={"year": 2025}).json()
    assert again["as_of"] == first["as_of"] and again["totals"]["pupils"] == first["totals"]["pupils"]
    service.refresh(db, now=utcnow() + timedelta(seconds=1))
    fresh = client.get("/api/v1/barometer", params={"year": 2025}).json()
    assert fresh["as_of"] > first["as_of"] and fresh["totals"]["pupils"] == first["totals"]["pupils"] + 9
