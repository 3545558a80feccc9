"""JSON API of the barometer (shared/API.md, "Barometer (open data)"): the figures as JSON, as CSV
tables and a workbook, and the Frictionless data package that describes them. Public and the
same for everyone, so shared caches may keep each answer for a few minutes."""

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import col

from app.accounts.models import ProviderKind, SchoolLevel
from app.accounts.schemas import Municipality
from app.barometer import opendata, service
from app.catalogue.models import OfferSession, OfferType, Theme
from app.deps import Now, SessionDep, SettingsDep
from app.i18n import TIMEZONE

router = APIRouter(tags=["barometer"])

# The worker keeps figures younger than BAROMETER_MAX_AGE_MINUTES; a shared cache adds at most this.
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Table = Literal["totals", "by_municipality", "by_type", "by_theme", "targets"]


class CsvResponse(Response):
    media_type = "text/csv"


class XlsxResponse(Response):
    media_type = XLSX


class Totals(BaseModel):
    bookings: int | None
    classes: int | None
    pupils: int | None
    girls: int | None
    girls_share: float | None
    schools_reached: int | None
    schools_total: int
    providers_active: int | None
    mentors_active: int | None
    mentor_hours: float | None
    evaluations: int | None
    evaluation_score: float | None
    company_weeks: int | None
    girls_day_places: int | None
    suppressed: bool


class MunicipalityFigures(BaseModel):
    municipality: str
    bookings: int | None
    pupils: int | None
    girls: int | None
    schools_reached: int | None
    schools_total: int
    suppressed: bool


class TypeFigures(BaseModel):
    type: OfferType
    bookings: int | None
    pupils: int | None
    girls: int | None
    suppressed: bool


class ThemeFigures(BaseModel):
    theme: Theme
    bookings: int | None
    pupils: int | None
    girls: int | None
    suppressed: bool


class TargetProgress(BaseModel):
    indicator: str
    municipality: str | None
    target: float
    actual: float | None


class Filters(BaseModel):
    municipality: str | None
    type: OfferType | None
    theme: Theme | None
    level: SchoolLevel | None
    provider_kind: ProviderKind | None


class Barometer(BaseModel):
    """The figures of a year (or school year) under the filters. Figures withheld to protect
    individuals (a cell below municipality level with 1-4 pupils, or a single mentor) are null,
    and their row's `suppressed` is true."""

    year: int
    school_year: bool
    period: str
    period_start: str
    period_end: str
    filters: Filters
    as_of: str
    totals: Totals
    by_municipality: list[MunicipalityFigures]
    by_type: list[TypeFigures]
    by_theme: list[ThemeFigures]
    targets: list[TargetProgress]


@dataclass(frozen=True)
class Choice:
    year: int | None
    school_year: bool
    municipality: str | None
    type: OfferType | None
    theme: Theme | None
    level: SchoolLevel | None
    provider_kind: ProviderKind | None


def choice(
    year: Annotated[
        int | None,
        Query(ge=service.FIRST_YEAR, le=service.LAST_YEAR, description="The year; the current one if left out."),
    ] = None,
    school_year: Annotated[
        bool, Query(description="The school year 1 August `year` to 31 July `year`+1 instead of the calendar year.")
    ] = False,
    municipality: Annotated[Municipality | None, Query(description="The schools' municipality.")] = None,
    type: Annotated[OfferType | None, Query(description="The kind of activity.")] = None,
    theme: Theme | None = None,
    level: Annotated[
        SchoolLevel | None, Query(description="By the booking's grade: primary 0-10, upper_secondary 11-13.")
    ] = None,
    provider_kind: ProviderKind | None = None,
) -> Choice:
    return Choice(year, school_year, municipality, type, theme, level, provider_kind)


ChoiceDep = Annotated[Choice, Depends(choice)]


def _figures(db, now, chosen: Choice) -> dict:
    year = chosen.year or service.current_year(now, school_year=chosen.school_year)
    return service.figures(
        db,
        year=year,
        school_year=chosen.school_year,
        municipality=chosen.municipality,
        type=chosen.type,
        theme=chosen.theme,
        level=chosen.level,
        provider_kind=chosen.provider_kind,
        now=now,
    )


def _filename(data: dict, suffix: str) -> str:
    period = data["period"].replace("/", "-")
    return f'attachment; filename="stem-barometer-{period}{suffix}"'


@router.get("/barometer", response_model=Barometer)
def barometer(db: SessionDep, now: Now, chosen: ChoiceDep) -> Response:
    """The barometer's figures (counting rule, suppression and `as_of`: shared/API.md). The
    worker keeps the figures younger than BAROMETER_MAX_AGE_MINUTES; `as_of` tells when they
    were counted."""
    data = Barometer.model_validate(_figures(db, now, chosen)).model_dump(mode="json")
    return JSONResponse(data, headers=PUBLIC_CACHE)


@router.get(
    "/barometer.csv",
    response_class=CsvResponse,
    responses={200: {"description": "One table as CSV (UTF-8, comma-separated, a header line; empty for null)."}},
)
def barometer_csv(
    db: SessionDep,
    now: Now,
    chosen: ChoiceDep,
    table: Annotated[Table, Query(description="Which table: the columns are in the data package.")] = "totals",
) -> Response:
    """One table of the figures as CSV; its columns are described in
    /api/v1/barometer/datapackage.json."""
    data = _figures(db, now, chosen)
    return CsvResponse(
        opendata.csv_text(data, table).encode(),
        media_type="text/csv; charset=utf-8",
        headers={**PUBLIC_CACHE, "Content-Disposition": _filename(data, f"-{table}.csv")},
    )


@router.get(
    "/barometer.xlsx",
    response_class=XlsxResponse,
    responses={200: {"description": "A workbook with a sheet per table, the CSV's columns."}},
)
def barometer_xlsx(db: SessionDep, now: Now, chosen: ChoiceDep) -> Response:
    """Every table of the figures, a sheet each, in one workbook."""
    data = _figures(db, now, chosen)
    return XlsxResponse(
        opendata.xlsx_bytes(data), headers={**PUBLIC_CACHE, "Content-Disposition": _filename(data, ".xlsx")}
    )


@router.get("/barometer/datapackage.json")
def barometer_datapackage(db: SessionDep, settings: SettingsDep, now: Now) -> Response:
    """A Frictionless data package (CC-BY-4.0) describing the CSV tables of every year from the
    portal's oldest date to this year, at stable addresses, with each column's type and meaning."""
    oldest = db.execute(select(func.min(col(OfferSession.starts_at)))).scalar_one()
    this_year = service.current_year(now)
    first = opendata.first_year(oldest.astimezone(TIMEZONE).year if oldest else None, this_year)
    package = opendata.datapackage(settings.base_url, list(range(first, this_year + 1)))
    return JSONResponse(package, headers=PUBLIC_CACHE)
