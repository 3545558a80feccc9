"""The council's report: twice a year the coordinators write a report for a period (say 1 August to
31 January) with the barometer's indicators, the targets, the trend over the years before, and text
sections of their own in Markdown. No HTTP here: app/barometer/report_pages.py shows it as a page,
a printable page and a PDF.

Who may: the staff (every coordinator, a municipality's too, and the admins) see, write and delete
every report. A report is the region's: it counts the whole region, so a municipality's
coordinator helps write it rather than keeping one of their own.

The figures: the barometer counts by calendar year (or school year, service.py's counting rule),
and the stored figures are kept per year. A report's period is at most 12 months, so it touches one
or two calendar years; the report shows the figures of each of them (the region's, with the targets
set for that year), beside the trend of the years before. It reuses service.figures and
service.series, so the counting rule lives in one place."""

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.barometer import service
from app.barometer import targets as targets_service
from app.barometer.models import CouncilReport
from app.errors import Forbidden, InvalidInput, NotFound
from app.i18n import _

TITLE_LENGTH = 200
HEADING_LENGTH = 200
TEXT_LENGTH = 5000
MAX_SECTIONS = 12
MAX_MONTHS = 12
TREND_YEARS = 5  # the period's last year and the four before it

# The indicators the report shows, in order.
INDICATORS = (
    "bookings",
    "classes",
    "pupils",
    "girls",
    "girls_share",
    "schools_reached",
    "providers_active",
    "mentors_active",
    "mentor_hours",
    "company_weeks",
    "girls_day_places",
    "evaluations",
    "evaluation_score",
)


# --- who may -------------------------------------------------------------------------------------


def _staff(actor: User) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only coordinators and administrators may do this."))


# --- checks --------------------------------------------------------------------------------------


def _clean_line(value: Any, *, field: str, limit: int, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInput(_("Fill in this field."), field=field)
    if "\n" in text or "\r" in text:
        raise InvalidInput(_("Write it on one line."), field=field)
    if any(ord(c) < 32 and c != "\t" for c in text) or "\x7f" in text:
        raise InvalidInput(_("Remove the special characters (control characters) from the text."), field=field)
    if len(text) > limit:
        raise InvalidInput(_("Use at most %(count)d characters.") % {"count": limit}, field=field)
    return text


def _months_between(start: date, end: date) -> float:
    return (end.year - start.year) * 12 + (end.month - start.month) + (end.day - start.day) / 31


def check_period(start: Any, end: Any) -> tuple[date, date]:
    """The period: both days given, the end not before the start, at most 12 months (1 August to
    31 July is the longest), within the years the barometer counts."""
    if not isinstance(start, date):
        raise InvalidInput(_("Write a date, e.g. 2026-08-01."), field="period_start")
    if not isinstance(end, date):
        raise InvalidInput(_("Write a date, e.g. 2027-01-31."), field="period_end")
    for day, name in ((start, "period_start"), (end, "period_end")):
        if not service.FIRST_YEAR <= day.year <= service.LAST_YEAR:
            raise InvalidInput(
                _("Write a year from %(first)d to %(last)d.") % {"first": service.FIRST_YEAR, "last": service.LAST_YEAR},
                field=name,
            )
    if end < start:
        raise InvalidInput(_("The period must end on or after the day it starts."), field="period_end")
    try:
        a_year_on = start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        a_year_on = date(start.year + 1, 3, 1)
    if end >= a_year_on:
        raise InvalidInput(_("A report covers at most 12 months."), field="period_end")
    return start, end


def check_sections(sections: Any) -> list[dict[str, str]]:
    """The sections: [{"heading", "text"}], at most 12; a heading on one line of at most 200
    characters, the text Markdown of at most 5000. A section with neither is dropped. The error
    names the field as the form does: heading_1, text_1 (counted from 1)."""
    if not isinstance(sections, list):
        raise InvalidInput(_("The sections could not be read."), field="sections")
    found = []
    for number, section in enumerate(sections, start=1):
        if not isinstance(section, dict):
            raise InvalidInput(_("The sections could not be read."), field="sections")
        heading = section.get("heading") if isinstance(section.get("heading"), str) else ""
        text = section.get("text") if isinstance(section.get("text"), str) else ""
        if not heading.strip() and not text.strip():
            continue
        heading = _clean_line(heading, field=f"heading_{number}", limit=HEADING_LENGTH)
        text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
        if "\x00" in text:
            raise InvalidInput(_("Remove the special characters (control characters) from the text."),
                               field=f"text_{number}")
        if len(text) > TEXT_LENGTH:
            raise InvalidInput(_("Use at most %(count)d characters.") % {"count": TEXT_LENGTH}, field=f"text_{number}")
        found.append({"heading": heading, "text": text})
    if len(found) > MAX_SECTIONS:
        raise InvalidInput(_("A report has at most %(count)d sections.") % {"count": MAX_SECTIONS}, field="sections")
    return found


# --- keeping reports -----------------------------------------------------------------------------


def sections_of(report: CouncilReport) -> list[dict[str, str]]:
    try:
        found = json.loads(report.sections or "[]")
    except ValueError:
        return []
    return [
        {"heading": str(s.get("heading", "")), "text": str(s.get("text", ""))}
        for s in found if isinstance(s, dict)
    ] if isinstance(found, list) else []


def list_reports(db: Session, actor: User) -> list[CouncilReport]:
    _staff(actor)
    return list(db.exec(select(CouncilReport).order_by(col(CouncilReport.period_start).desc(),
                                                       col(CouncilReport.id).desc())).all())


def get_report(db: Session, actor: User, report_id: int) -> CouncilReport:
    _staff(actor)
    report = db.get(CouncilReport, report_id)
    if report is None:
        raise NotFound(_("No such report."))
    return report


def create_report(
    db: Session, actor: User, *, title: Any, period_start: Any, period_end: Any, sections: Any, now: datetime
) -> CouncilReport:
    _staff(actor)
    clean_title = _clean_line(title, field="title", limit=TITLE_LENGTH)
    start, end = check_period(period_start, period_end)
    clean_sections = check_sections(sections)
    report = CouncilReport(
        title=clean_title, period_start=start, period_end=end,
        sections=json.dumps(clean_sections, ensure_ascii=False),
        created_by_id=actor.id, created_at=now, updated_at=now,
    )
    db.add(report)
    db.commit()
    db.refresh(report)
    return report


def update_report(
    db: Session, actor: User, report_id: int, *, title: Any, period_start: Any, period_end: Any, sections: Any,
    now: datetime,
) -> CouncilReport:
    report = get_report(db, actor, report_id)
    clean_title = _clean_line(title, field="title", limit=TITLE_LENGTH)
    start, end = check_period(period_start, period_end)
    clean_sections = check_sections(sections)
    report.title, report.period_start, report.period_end = clean_title, start, end
    report.sections = json.dumps(clean_sections, ensure_ascii=False)
    report.updated_at = now
    db.add(report)
    db.commit()
    db.refresh(report)
    return report


def delete_report(db: Session, actor: User, report_id: int) -> None:
    report = get_report(db, actor, report_id)
    db.delete(report)
    db.commit()


# --- the figures ---------------------------------------------------------------------------------


@dataclass
class YearFigures:
    year: int
    totals: dict[str, Any]
    goals: list[targets_service.Progress]
    as_of: str | None


@dataclass
class ReportFigures:
    years: list[YearFigures]  # the calendar years the period touches, oldest first
    trend_years: list[int]
    trend: list[dict[str, Any]]  # service.series: {year, period, as_of, **totals}
    indicators: tuple[str, ...] = field(default=INDICATORS)

    def trend_value(self, year: int, indicator: str) -> Any:
        for row in self.trend:
            if row.get("year") == year:
                return row.get(indicator)
        return None


def period_years(start: date, end: date) -> list[int]:
    return list(range(start.year, end.year + 1))


def report_figures(db: Session, report: CouncilReport, *, now: datetime) -> ReportFigures:
    """The region's figures of each calendar year the period touches with the targets of that year,
    and the trend: the period's last year and the four years before it."""
    years = []
    for year in period_years(report.period_start, report.period_end):
        data = service.figures(db, year=year, now=now)
        goals = targets_service.progress(targets_service.targets_for(db, year, None), data)
        years.append(YearFigures(year=year, totals=data.get("totals") or {}, goals=goals, as_of=data.get("as_of")))
    last = report.period_end.year
    trend_years = [y for y in range(last - TREND_YEARS + 1, last + 1) if y >= service.FIRST_YEAR]
    trend = service.series(db, years=trend_years, now=now)
    return ReportFigures(years=years, trend_years=trend_years, trend=trend)
