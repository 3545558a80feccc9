"""The barometer as open data: its figures as tables (CSV, one per table; XLSX, a sheet per table)
and the Frictionless data package that describes the CSV files at their stable addresses. The
columns of each table are defined once, here, so a file's header and its package's schema agree."""

import csv
import io
from dataclasses import dataclass
from urllib.parse import urlencode

import xlsxwriter

from app.barometer.service import FIRST_YEAR, SMALLEST_CELL

LICENCE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}
SUPPRESSION = (
    f"Empty (suppressed) in a cell below municipality level (one municipality and a type, theme, "
    f"level or provider kind) with 1 to {SMALLEST_CELL - 1} pupils."
)
MENTOR_SUPPRESSION = "Empty (suppressed) in a cell below municipality level with a single active mentor."
COUNTING_RULE = (
    "A booking counts in a year when its (first) date starts in that calendar year, Danish time "
    "(a school year: 1 August to 31 July), and it is confirmed or completed; a long course counts once."
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a Frictionless field type: integer, number, string, boolean
    description: str
    enum: tuple[str, ...] | None = None

    def schema(self) -> dict:
        field = {"name": self.name, "type": self.type, "description": self.description}
        if self.enum:
            field["constraints"] = {"enum": list(self.enum)}
        return field


def _period_columns() -> list[Column]:
    return [
        Column("year", "integer", "The calendar year, or the year a school year begins in."),
        Column("school_year", "boolean", "true: the school year 1 August `year` to 31 July `year`+1; false: the calendar year."),
    ]


def _counts(suppression: str) -> list[Column]:
    return [
        Column("bookings", "integer", f"Bookings counted under the counting rule. {suppression}"),
        Column("pupils", "integer", f"Pupils of the counted bookings. {suppression}"),
        Column("girls", "integer", f"Girls of the counted bookings (where the teacher gave the number). {suppression}"),
    ]


_SUPPRESSED = Column(
    "suppressed", "boolean", "true when some figures of the row are withheld (empty) to protect individuals."
)


def _tables() -> dict[str, list[Column]]:
    from app.catalogue.models import OfferType, Theme
    from app.geography import MUNICIPALITY_NAMES

    return {
        "totals": [
            *_period_columns(),
            Column("bookings", "integer", f"Bookings counted under the counting rule. {SUPPRESSION}"),
            Column("classes", "integer", f"Classes taking part: one per counted booking. {SUPPRESSION}"),
            Column("pupils", "integer", f"Pupils reached: the pupils of the counted bookings. {SUPPRESSION}"),
            Column("girls", "integer", f"Girls reached (where the teacher gave the number). {SUPPRESSION}"),
            Column("girls_share", "number", f"Girls / pupils of the bookings that give a number of girls, 0 to 1; empty when none does. {SUPPRESSION}"),
            Column("schools_reached", "integer", f"Distinct schools with a counted booking. {SUPPRESSION}"),
            Column("schools_total", "integer", "All school organisations in the portal (of the municipality and level chosen). Never suppressed."),
            Column("providers_active", "integer", f"Distinct providers of the counted bookings' offers. {SUPPRESSION}"),
            Column("mentors_active", "integer", f"Distinct youth mentors with a completed shift on a date in the period. {MENTOR_SUPPRESSION}"),
            Column("mentor_hours", "number", f"Hours of the completed mentor shifts on dates in the period. {MENTOR_SUPPRESSION}"),
            Column("evaluations", "integer", f"Answered evaluations (teachers, providers, mentors) of the counted bookings. {SUPPRESSION}"),
            Column("evaluation_score", "number", f"Mean answer to the evaluations' 1-5 scale questions; empty when none. {SUPPRESSION}"),
            Column("company_weeks", "integer", f"Counted bookings of company weeks. {SUPPRESSION}"),
            Column("girls_day_places", "integer", f"Pupils of counted Girls Day in Science bookings. {SUPPRESSION}"),
            _SUPPRESSED,
        ],
        "by_municipality": [
            *_period_columns(),
            Column("municipality", "string", "The school's municipality (all 19 of Central Denmark Region).", tuple(MUNICIPALITY_NAMES)),
            *_counts(SUPPRESSION),
            Column("schools_reached", "integer", f"Distinct schools of the municipality with a counted booking. {SUPPRESSION}"),
            Column("schools_total", "integer", "School organisations of the municipality. Never suppressed."),
            _SUPPRESSED,
        ],
        "by_type": [
            *_period_columns(),
            Column("type", "string", "The kind of activity (offer type).", tuple(t.value for t in OfferType)),
            *_counts(SUPPRESSION),
            _SUPPRESSED,
        ],
        "by_theme": [
            *_period_columns(),
            Column("theme", "string", "One of the region's strongholds; an offer with several themes counts under each.", tuple(t.value for t in Theme)),
            *_counts(SUPPRESSION),
            _SUPPRESSED,
        ],
        "targets": [
            *_period_columns(),
            Column("indicator", "string", "The indicator (a column of the totals) the target is set for."),
            Column("municipality", "string", "The municipality the target is for; empty for the whole region."),
            Column("target", "number", "The coordinators' target for the year (a share in per cent)."),
            Column("actual", "number", "The figure reached (a share in per cent); empty when suppressed or not counted."),
        ],
    }


TABLES: dict[str, list[Column]] = _tables()
TABLE_NAMES = tuple(TABLES)
TABLE_TITLES = {
    "totals": "The region's totals",
    "by_municipality": "Per municipality",
    "by_type": "Per kind of activity",
    "by_theme": "Per theme",
    "targets": "Targets and progress",
}


def rows(data: dict, table: str) -> list[dict]:
    """The table's rows from the figures (service.figures' shape), each with every column."""
    period = {"year": data["year"], "school_year": data["school_year"]}
    found = [data["totals"]] if table == "totals" else data[table]
    names = [c.name for c in TABLES[table]]
    return [{name: {**period, **row}.get(name) for name in names} for row in found]


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def csv_text(data: dict, table: str) -> str:
    """One table as CSV: comma-separated, UTF-8, a header line, empty for null."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in TABLES[table]])
    for row in rows(data, table):
        writer.writerow([_cell(v) for v in row.values()])
    return out.getvalue()


def xlsx_bytes(data: dict) -> bytes:
    """Every table as a sheet of one workbook, headers in bold, empty cells for null."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = workbook.add_format({"bold": True})
    for table, columns in TABLES.items():
        sheet = workbook.add_worksheet(table)
        for x, column in enumerate(columns):
            sheet.write_string(0, x, column.name, bold)
            sheet.set_column(x, x, max(10, len(column.name) + 2))
        for y, row in enumerate(rows(data, table), start=1):
            for x, value in enumerate(row.values()):
                if value is None:
                    continue
                if isinstance(value, bool):
                    sheet.write_boolean(y, x, value)
                elif isinstance(value, int | float):
                    sheet.write_number(y, x, value)
                else:
                    sheet.write_string(y, x, str(value))
        sheet.freeze_panes(1, 0)
    workbook.close()
    return out.getvalue()


def table_path(base_url: str, year: int, table: str, *, school_year: bool = False) -> str:
    """The stable address of one table of one year's CSV."""
    query = [("year", year), ("table", table)]
    if school_year:
        query.append(("school_year", "true"))
    return f"{base_url.rstrip('/')}/api/v1/barometer.csv?{urlencode(query)}"


def datapackage(base_url: str, years: list[int]) -> dict:
    """The Frictionless data package (Data Package v1, tabular resources) of the barometer's CSV
    files for the years given, one resource per table and year, at absolute addresses (a
    package's relative paths would resolve against the package's own address)."""
    resources = []
    for year in years:
        for table, columns in TABLES.items():
            resources.append(
                {
                    "name": f"{table.replace('_', '-')}-{year}",
                    "title": f"{TABLE_TITLES[table]}, {year}",
                    "path": table_path(base_url, year, table),
                    "profile": "tabular-data-resource",
                    "format": "csv",
                    "mediatype": "text/csv",
                    "encoding": "utf-8",
                    "schema": {"fields": [c.schema() for c in columns], "missingValues": [""]},
                }
            )
    return {
        "profile": "tabular-data-package",
        "name": "stem-barometer-central-denmark-region",
        "title": "The STEM barometer of Central Denmark Region",
        "description": (
            "The technology pact's monitoring: bookings, classes, pupils and girls reached, schools, "
            "providers, youth mentors and evaluations of the STEM activities booked through the "
            f"portal, per year, municipality, kind of activity and theme. {COUNTING_RULE} "
            f"{SUPPRESSION} Each year's tables also come as one workbook: "
            f"{base_url.rstrip('/')}/api/v1/barometer.xlsx?year=YEAR; and as JSON: "
            f"{base_url.rstrip('/')}/api/v1/barometer?year=YEAR. Filters (municipality, type, "
            "theme, level, provider_kind, school_year) work on every address."
        ),
        "homepage": f"{base_url.rstrip('/')}/barometer",
        "licenses": [LICENCE],
        "keywords": ["STEM", "education", "Central Denmark Region", "technology pact", "barometer"],
        "resources": resources,
    }


def first_year(oldest_session_year: int | None, this_year: int) -> int:
    """The first year the package lists: the year of the oldest date in the portal."""
    if oldest_session_year is None:
        return this_year
    return max(FIRST_YEAR, min(oldest_session_year, this_year))
