"""The council's report as pages (the coordinators' and admins'): the list, writing and changing a
report, deleting it after a confirmation, a printable page and a PDF. See app/barometer/report.py
for who may and how the figures of a period are found."""

import html
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fpdf import FPDF
from sqlmodel import Session

from app.barometer import charts
from app.barometer import report as reports
from app.barometer.models import CouncilReport
from app.barometer.pages import figure_text, indicator_label
from app.catalogue.text import render_description
from app.db import MAX_ID
from app.deps import Now, SessionDep, StaffPageUser
from app.errors import InvalidInput, NotFound
from app.i18n import _, current_language, local_date
from app.mentors.certificate import FONT_DIRS, _font_files, _latin1, _same, _table
from app.web.forms import FormFields, PostedForm, form_errors, int_or_none
from app.web.templating import redirect, render

router = APIRouter()

BLANK_SECTIONS = 2  # empty sections offered below the written ones


def _report_id(value: str) -> int:
    found = int_or_none(value, 1, MAX_ID)
    if found is None:
        raise NotFound(_("No such report."))
    return found


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def _sections_of_form(form: FormFields) -> list[dict[str, str]]:
    found = []
    for number in range(1, reports.MAX_SECTIONS + BLANK_SECTIONS + 1):
        heading, text = form.get(f"heading_{number}"), form.get(f"text_{number}")
        if heading is None and text is None:
            continue
        found.append({"heading": heading or "", "text": text or ""})
    return found


def _values_of(report: CouncilReport | None, form: FormFields | None) -> dict[str, Any]:
    if form is not None:
        values = dict(form)
        sections = _sections_of_form(form)
    elif report is not None:
        values = {"title": report.title, "period_start": report.period_start.isoformat(),
                  "period_end": report.period_end.isoformat()}
        sections = reports.sections_of(report)
    else:
        values, sections = {}, []
    count = min(max(len(sections) + BLANK_SECTIONS, 3), reports.MAX_SECTIONS + BLANK_SECTIONS)
    for number in range(1, count + 1):
        section = sections[number - 1] if number <= len(sections) else {"heading": "", "text": ""}
        values[f"heading_{number}"] = section["heading"]
        values[f"text_{number}"] = section["text"]
    values["section_count"] = count
    return values


def _form_page(request, *, report=None, form=None, errors=None, notice=None) -> Response:
    return render(
        request,
        "barometer/report_form.html",
        {"report": report, "values": _values_of(report, form), "errors": errors or {},
         "max_sections": reports.MAX_SECTIONS, "notice": notice},
        status_code=422 if errors else 200,
    )


def _fields(form: FormFields) -> dict[str, Any]:
    start, end = _day(form.get("period_start")), _day(form.get("period_end"))
    return {"title": form.get("title", ""), "period_start": start, "period_end": end,
            "sections": _sections_of_form(form)}


@router.get("/barometer/reports")
def reports_page(request: Request, db: SessionDep, user: StaffPageUser, notice: str | None = None) -> Response:
    return render(request, "barometer/reports.html", {"reports": reports.list_reports(db, user), "notice": notice})


@router.get("/barometer/reports/new")
def new_report_page(request: Request, db: SessionDep, user: StaffPageUser) -> Response:
    return _form_page(request)


@router.post("/barometer/reports/new")
def create_report(request: Request, db: SessionDep, user: StaffPageUser, form: PostedForm, now: Now) -> Response:
    try:
        report = reports.create_report(db, user, **_fields(form), now=now)
    except InvalidInput as error:
        db.rollback()
        return _form_page(request, form=form, errors=form_errors(error))
    return redirect(request, f"/barometer/reports/{report.id}?notice=saved")


# Before /barometer/reports/{report_id}, which would take "5.pdf" for an id.
@router.get("/barometer/reports/{report_id}.pdf")
def report_pdf(db: SessionDep, user: StaffPageUser, now: Now, report_id: str) -> Response:
    report = reports.get_report(db, user, _report_id(report_id))
    content = report_pdf_bytes(db, report, now=now)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="stem-barometer-report-{report.id}.pdf"'},
    )


@router.get("/barometer/reports/{report_id}")
def edit_report_page(
    request: Request, db: SessionDep, user: StaffPageUser, report_id: str, notice: str | None = None
) -> Response:
    report = reports.get_report(db, user, _report_id(report_id))
    return _form_page(request, report=report, notice=notice)


@router.post("/barometer/reports/{report_id}")
def update_report(
    request: Request, db: SessionDep, user: StaffPageUser, form: PostedForm, now: Now, report_id: str
) -> Response:
    report = reports.get_report(db, user, _report_id(report_id))
    try:
        reports.update_report(db, user, report.id, **_fields(form), now=now)
    except InvalidInput as error:
        db.rollback()
        return _form_page(request, report=db.get(CouncilReport, report.id), form=form, errors=form_errors(error))
    return redirect(request, f"/barometer/reports/{report.id}?notice=saved")


@router.get("/barometer/reports/{report_id}/delete")
def delete_report_page(request: Request, db: SessionDep, user: StaffPageUser, report_id: str) -> Response:
    report = reports.get_report(db, user, _report_id(report_id))
    return render(request, "barometer/report_delete.html", {"report": report})


@router.post("/barometer/reports/{report_id}/delete")
def delete_report(request: Request, db: SessionDep, user: StaffPageUser, form: PostedForm, report_id: str) -> Response:
    reports.delete_report(db, user, _report_id(report_id))
    return redirect(request, "/barometer/reports?notice=deleted")


# --- the printable page and the PDF --------------------------------------------------------------


def _rows(found: reports.ReportFigures) -> list[dict[str, Any]]:
    """Each indicator: its figure in each of the period's years, and over the trend's years."""
    rows = []
    for indicator in found.indicators:
        rows.append({
            "key": indicator,
            "label": indicator_label(indicator),
            "years": [figure_text(indicator, _number(y.totals.get(indicator)), hidden=bool(y.totals.get("suppressed")))
                      for y in found.years],
            "trend": [figure_text(indicator, _number(found.trend_value(y, indicator))) for y in found.trend_years],
        })
    return rows


def _number(value: Any) -> float | None:
    return None if isinstance(value, bool) or not isinstance(value, int | float) else float(value)


def _trend_charts(found: reports.ReportFigures) -> list[dict[str, Any]]:
    shown = ("bookings", "pupils", "girls_share", "schools_reached", "mentor_hours")
    result = []
    for indicator in shown:
        series = [
            (str(y), _number(found.trend_value(y, indicator)), figure_text(indicator, _number(found.trend_value(y, indicator))))
            for y in found.trend_years
        ]
        result.append({"key": indicator, "label": indicator_label(indicator), "chart": charts.line_chart(series)})
    return result


def _print_context(db: Session, report: CouncilReport, now: datetime) -> dict[str, Any]:
    found = reports.report_figures(db, report, now=now)
    sections = reports.sections_of(report)
    return {
        "report": report,
        "found": found,
        "rows": _rows(found),
        "trend_charts": _trend_charts(found),
        "sections": [{"heading": s["heading"], "html": render_description(s["text"])} for s in sections],
        "indicator_label": indicator_label,
        "figure_text": figure_text,
        "now": now,
    }


@router.get("/barometer/reports/{report_id}/print")
def print_report(request: Request, db: SessionDep, user: StaffPageUser, now: Now, report_id: str) -> Response:
    report = reports.get_report(db, user, _report_id(report_id))
    return render(request, "barometer/report_print.html", _print_context(db, report, now))


def report_pdf_bytes(db: Session, report: CouncilReport, *, now: datetime,
                     font_dirs: tuple[Path, ...] | None = None) -> bytes:
    """The report as a PDF in the visitor's language (the portal's Danish by default): the figures
    and targets as tables, the trend as a table, the sections as text (Markdown written plainly)."""
    context = _print_context(db, report, now)
    found: reports.ReportFigures = context["found"]
    fonts = _font_files(FONT_DIRS if font_dirs is None else font_dirs)
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    if fonts:
        for style, path in fonts.items():
            pdf.add_font("DejaVu", style, str(path))
        family, clean = "DejaVu", _same
    else:
        family, clean = "Helvetica", _latin1
    pdf.set_title(clean(report.title))
    pdf.set_author(clean(_("STEM portal")))
    pdf.set_lang(current_language())
    pdf.set_creation_date(now)
    pdf.add_page()

    def heading(text: str, size: float) -> None:
        pdf.set_font(family, "B", size)
        pdf.multi_cell(0, size * 0.55, clean(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def paragraph(text: str) -> None:
        pdf.set_font(family, "", 10.5)
        pdf.multi_cell(0, 5.5, clean(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    heading(report.title, 17)
    paragraph(_("The STEM barometer for %(start)s to %(end)s.")
              % {"start": local_date(report.period_start, "long"), "end": local_date(report.period_end, "long")})

    heading(_("The figures"), 13)
    year_names = [str(y.year) for y in found.years]
    widths = (70, *([100 // max(len(year_names), 1)] * len(year_names)))
    _table(pdf, family, clean, (_("Indicator"), *year_names),
           [(row["label"], *row["years"]) for row in context["rows"]], widths=widths)

    heading(_("Targets"), 13)
    goals = [(str(y.year), indicator_label(g.indicator), figure_text(g.indicator, g.target),
              figure_text(g.indicator, g.actual), _("reached") if g.reached else _("not yet"))
             for y in found.years for g in y.goals]
    if goals:
        _table(pdf, family, clean, (_("Year"), _("Indicator"), _("Target"), _("Figure"), _("Status")), goals,
               widths=(18, 62, 30, 30, 30))
    else:
        paragraph(_("No targets are set for these years."))

    heading(_("The trend over the years"), 13)
    trend_names = [str(y) for y in found.trend_years]
    width = 104 // max(len(trend_names), 1)
    _table(pdf, family, clean, (_("Indicator"), *trend_names),
           [(row["label"], *row["trend"]) for row in context["rows"]], widths=(70, *([width] * len(trend_names))))

    for section in reports.sections_of(report):
        heading(section["heading"], 13)
        for block in plain_text(section["text"]).split("\n\n"):
            if block.strip():
                paragraph(block.strip())
    return bytes(pdf.output())


def plain_text(markdown: str) -> str:
    """A section's Markdown as plain paragraphs for the PDF: rendered as the page renders it (no raw
    HTML), then the tags taken away; a list item starts with a dash."""
    text = str(render_description(markdown))
    text = re.sub(r"<li>\s*(<p>)?", "- ", text)
    text = re.sub(r"</(p|h\d|ul|ol|blockquote|pre)>", "\n\n", text)
    text = re.sub(r"</li>|<br\s*/?>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return html.unescape(text).strip()
