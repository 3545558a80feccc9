"""HTML pages of the STEM barometer: the public page with its figures, charts, targets and
national statistics, and the coordinators' pages for targets and the national statistics import."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func
from sqlmodel import Session, select

from app.accounts.models import ProviderKind, SchoolLevel
from app.barometer import charts, service
from app.barometer import targets as targets_service
from app.calendar.bounds import school_year_of
from app.catalogue.models import OfferSession, OfferType, Theme
from app.deps import MaybeUser, Now, SessionDep, StaffPageUser
from app.errors import InvalidInput, NotFound
from app.geography import MUNICIPALITIES, MUNICIPALITY_NAMES
from app.i18n import TIMEZONE, _, local_number
from app.web.forms import PostedForm, form_errors, int_or_none, optional_choice
from app.web.labels import label
from app.web.templating import redirect, render

router = APIRouter()

TREND_YEARS = 5  # the chosen year and the four before it
OLDEST_YEAR_SHOWN = 10  # how many years back the year can be chosen
# The largest CSV file a coordinator may upload or paste (a year's figures for 19 municipalities
# is a few kilobytes; this allows many indicators and years at once).
MAX_CSV_BYTES = 1_000_000

# The headline figures, in the order shown, each as (key in totals, how it is written).
HEADLINES = (
    "bookings",
    "pupils",
    "girls",
    "girls_share",
    "schools_reached",
    "providers_active",
    "mentors_active",
    "mentor_hours",
    "company_weeks",
    "girls_day_places",
    "evaluation_score",
)


def indicator_label(code: str) -> str:
    names = {
        "bookings": _("Bookings"),
        "classes": _("Classes"),
        "pupils": _("Pupils reached"),
        "girls": _("Girls reached"),
        "girls_share": _("Girls' share of the pupils"),
        "schools_reached": _("Schools reached"),
        "schools_total": _("Schools in all"),
        "providers_active": _("Active providers"),
        "mentors_active": _("Active mentors"),
        "mentor_hours": _("Mentor hours"),
        "evaluations": _("Evaluations answered"),
        "evaluation_score": _("Average evaluation score (1–5)"),
        "company_weeks": _("Company weeks held"),
        "girls_day_places": _("Girls Day places"),
    }
    return names.get(code, code.replace("_", " "))


def figure_text(indicator: str, value: float | None, *, hidden: bool = False) -> str:
    """A figure as the page writes it: counts whole, a share in per cent, a score with one decimal;
    "hidden" for a figure withheld as too small (`hidden`), a dash for one there is none of."""
    if value is None:
        return _("hidden") if hidden else "–"
    if indicator in targets_service.PERCENT_INDICATORS:
        return _("%(number)s %%") % {"number": local_number(targets_service.percent(value), 1)}
    if indicator in targets_service.SCALE_INDICATORS or indicator == "mentor_hours":
        return local_number(value, 1)
    return local_number(value, 0)


def _number(value: Any) -> float | None:
    return None if isinstance(value, bool) or not isinstance(value, int | float) else float(value)


def _change(now_value: float | None, before: float | None, indicator: str) -> dict[str, Any] | None:
    """How a figure changed from last year: the difference, and in per cent when that means
    something (a share changes in percentage points instead)."""
    if now_value is None or before is None:
        return None
    if indicator in targets_service.PERCENT_INDICATORS:
        points = targets_service.percent(now_value) - targets_service.percent(before)
        text = _("%(number)s percentage points") % {"number": local_number(points, 1)}
        return {"direction": _direction(points), "text": _signed(points, text)}
    difference = now_value - before
    digits = 1 if indicator in targets_service.SCALE_INDICATORS or indicator == "mentor_hours" else 0
    text = local_number(abs(difference), digits)
    if before:
        text += " (" + _("%(number)s %%") % {"number": local_number(abs(difference) / before * 100, 0)} + ")"
    return {"direction": _direction(difference), "text": _signed(difference, text)}


def _direction(difference: float) -> str:
    return "up" if difference > 0 else "down" if difference < 0 else "same"


def _signed(difference: float, text: str) -> str:
    if difference > 0:
        return _("up %(change)s") % {"change": text.lstrip("-−")}
    if difference < 0:
        return _("down %(change)s") % {"change": text.lstrip("-−")}
    return _("unchanged")


# --- the choice of period and filters ------------------------------------------------------------


def _first_year(db: Session, this_year: int) -> int:
    """The first year the year list offers: the first the portal has dates in, but at least the
    trend's years and at most OLDEST_YEAR_SHOWN back (an older year can still be linked to)."""
    first = db.exec(select(func.min(OfferSession.starts_at))).first()
    year = first.astimezone(TIMEZONE).year if isinstance(first, datetime) else this_year
    return max(min(year, this_year - TREND_YEARS + 1), this_year - OLDEST_YEAR_SHOWN)


FILTER_CHOICES: dict[str, Any] = {
    "type": OfferType,
    "theme": Theme,
    "level": SchoolLevel,
    "provider_kind": ProviderKind,
}
FILTER_NAMES = ("period", "year", "municipality", "type", "theme", "level", "provider_kind")


def read_choice(
    params: Mapping[str, str], *, first_year: int, now: datetime
) -> tuple[dict[str, Any], list[str]]:
    """The period and filters from the address. A value the page does not know (an edited or old
    link) is not an error: it is ignored, and the page says so."""
    today = now.astimezone(TIMEZONE).date()
    ignored: list[str] = []
    school_year = params.get("period") == "school_year"
    if params.get("period") not in (None, "", "year", "school_year"):
        ignored.append(_("period"))
    last_year = school_year_of(today) if school_year else today.year
    year = last_year
    if params.get("year"):
        chosen = int_or_none(params["year"][:6], service.FIRST_YEAR + TREND_YEARS, last_year)
        if chosen is None:
            ignored.append(_("year"))
        else:
            year = chosen
    filters: dict[str, Any] = {}
    municipality = params.get("municipality")
    if municipality:
        if municipality in MUNICIPALITIES:
            filters["municipality"] = municipality
        else:
            ignored.append(_("municipality"))
    for name, enum in FILTER_CHOICES.items():
        if params.get(name):
            value = optional_choice(enum, params[name])
            if value is None:
                ignored.append(
                    {"type": _("kind of activity"), "theme": _("theme"), "level": _("education level"),
                     "provider_kind": _("kind of provider")}[name]
                )
            else:
                filters[name] = value
    return {
        "school_year": school_year,
        "year": year,
        "years": list(range(last_year, min(first_year, year) - 1, -1)),
        "filters": filters,
    }, ignored


period_name = service.period_name


# --- the public page -----------------------------------------------------------------------------


def _headlines(totals: Mapping[str, Any], trend: list[dict], years: list[int]) -> list[dict[str, Any]]:
    """Each headline figure with last year's, the change and its values over the years."""
    by_year = {row.get("year"): (row.get("totals") or row) for row in trend}
    before = by_year.get(years[-2]) if len(years) > 1 else None
    cards = []
    for key in HEADLINES:
        value = _number(totals.get(key))
        previous = _number(before.get(key)) if before else None
        history = [_number((by_year.get(y) or {}).get(key)) for y in years]
        card = {
            "key": key,
            "label": indicator_label(key),
            "text": figure_text(key, value, hidden=bool(totals.get("suppressed"))),
            "previous": figure_text(key, previous, hidden=bool(before.get("suppressed"))) if before else None,
            "change": _change(value, previous, key),
            "sparkline": charts.sparkline(history),
        }
        if key == "schools_reached" and _number(totals.get("schools_total")) is not None:
            card["of"] = _("of %(total)s schools") % {"total": local_number(totals["schools_total"], 0)}
        cards.append(card)
    return cards


def _rows(items: Any, key: str) -> list[dict[str, Any]]:
    return [row for row in (items or []) if isinstance(row, dict) and key in row]


def _cell(row: Mapping[str, Any], name: str, indicator: str = "bookings") -> str:
    return figure_text(indicator, _number(row.get(name)), hidden=bool(row.get("suppressed")))


def barometer_context(db: Session, params: Mapping[str, str], *, now: datetime) -> dict[str, Any]:
    this_year = now.astimezone(TIMEZONE).year
    choice, ignored = read_choice(params, first_year=_first_year(db, this_year), now=now)
    year, school_year, filters = choice["year"], choice["school_year"], choice["filters"]
    figures = service.figures(db, year=year, school_year=school_year, now=now, **filters)
    trend_years = list(range(year - TREND_YEARS + 1, year + 1))
    trend = service.series(db, years=trend_years, school_year=school_year, now=now, **filters)
    totals = figures.get("totals") or {}

    by_type = _rows(figures.get("by_type"), "type")
    type_chart = charts.bar_chart(
        [(label(r["type"]), _number(r.get("pupils")), _cell(r, "pupils")) for r in by_type], label_width=150
    )
    by_theme = _rows(figures.get("by_theme"), "theme")
    by_municipality = _rows(figures.get("by_municipality"), "municipality")
    ranked = sorted(by_municipality, key=lambda r: (-(_number(r.get("pupils")) or 0), r["municipality"]))
    municipality_chart = charts.bar_chart(
        [(r["municipality"], _number(r.get("pupils")), _cell(r, "pupils")) for r in ranked], width=320, label_width=125, number_width=44
    )
    by_year = {row.get("year"): (row.get("totals") or row) for row in trend}
    trend_rows = [
        {"year": y, "name": period_name(y, school_year), "totals": by_year.get(y) or {}} for y in trend_years
    ]
    trend_chart = charts.line_chart(
        [
            (period_name(y, school_year), _number((by_year.get(y) or {}).get("pupils")),
             _cell(by_year.get(y) or {}, "pupils"))
            for y in trend_years
        ]
    )

    scope = filters.get("municipality")
    goals = targets_service.progress(targets_service.targets_for(db, year, scope), figures)
    national_year, national = targets_service.national_figures(db, year)
    as_of = figures.get("as_of")
    if isinstance(as_of, str):
        try:
            as_of = datetime.fromisoformat(as_of)
        except ValueError:
            as_of = None
    chosen = {k: params[k] for k in FILTER_NAMES if params.get(k)}
    # The open data's stable addresses, for the same period and filters.
    data_query = urlencode({"year": year, **({"school_year": "true"} if school_year else {}),
                            **{k: getattr(v, "value", v) for k, v in filters.items()}})
    suppressed = any(
        row.get("suppressed") for rows in (by_type, by_theme, by_municipality) for row in rows
    ) or bool(totals.get("suppressed"))
    return {
        **choice,
        "period_name": period_name(year, school_year),
        "year_choices": [(y, period_name(y, school_year)) for y in choice["years"]],
        "previous_name": period_name(trend_years[-2], school_year),
        "is_current": year == (school_year_of(now.astimezone(TIMEZONE).date()) if school_year else this_year),
        "ignored": ignored,
        "chosen": chosen,
        "figures": figures,
        "totals": totals,
        "headlines": _headlines(totals, trend, trend_years),
        "trend_rows": trend_rows,
        "trend_chart": trend_chart,
        "trend_indicators": ("bookings", "pupils", "girls", "schools_reached", "mentor_hours"),
        "by_type": by_type,
        "type_chart": type_chart,
        "by_theme": by_theme,
        "by_municipality": sorted(by_municipality, key=lambda r: MUNICIPALITY_NAMES.index(r["municipality"])
                                  if r["municipality"] in MUNICIPALITY_NAMES else 99),
        "municipality_chart": municipality_chart,
        "goals": goals,
        "national_year": national_year,
        "national": national,
        "as_of": as_of if isinstance(as_of, datetime) else None,
        "data_query": data_query,
        "suppressed": suppressed,
        "offer_types": list(OfferType),
        "themes": list(Theme),
        "levels": list(SchoolLevel),
        "provider_kinds": list(ProviderKind),
        "indicator_label": indicator_label,
        "figure_text": figure_text,
        "cell": _cell,
    }


@router.get("/barometer")
def barometer_page(request: Request, db: SessionDep, user: MaybeUser, now: Now) -> Response:
    context = barometer_context(db, request.query_params, now=now)
    return render(request, "barometer/index.html", context, block="barometer_results")


# --- targets (coordinators) ----------------------------------------------------------------------


def _targets_page(request, db, user, now, *, values=None, errors=None, notice=None) -> Response:
    this_year = now.astimezone(TIMEZONE).year
    return render(
        request,
        "barometer/targets.html",
        {
            "targets": targets_service.list_targets(db, municipality=user.municipality),
            "indicators": [(code, indicator_label(code)) for code in targets_service.INDICATORS],
            "indicator_label": indicator_label,
            "figure_text": figure_text,
            "in_scope": lambda t: targets_service.in_scope(user, t.municipality),
            "values": values or {"year": this_year, "municipality": user.municipality or ""},
            "errors": errors or {},
            "notice": notice,
        },
        status_code=422 if errors else 200,
    )


@router.get("/barometer/targets")
def targets_page(
    request: Request, db: SessionDep, user: StaffPageUser, now: Now, notice: str | None = None
) -> Response:
    return _targets_page(request, db, user, now, notice=notice)


@router.post("/barometer/targets")
def set_or_delete_target(
    request: Request, db: SessionDep, user: StaffPageUser, form: PostedForm, now: Now
) -> Response:
    """Set a target, or (the "delete" button, with the target's id) delete one."""
    if form.get("delete"):
        target_id = int_or_none(form["delete"], 1, 2**31 - 1)
        if target_id is None:
            raise NotFound(_("No such target."))
        targets_service.delete_target(db, user, target_id)
        return redirect(request, "/barometer/targets?notice=deleted")
    try:
        indicator = form.get("indicator")
        if not indicator:
            raise InvalidInput(_("Choose one of the options in the list."), field="indicator")
        year = int_or_none((form.get("year") or "").strip(), 1, 9999)
        if year is None:
            raise InvalidInput(_("Write a year, e.g. 2030."), field="year")
        raw_value = form.get("value")
        if not raw_value:
            raise InvalidInput(_("Fill in this field."), field="value")
        value = targets_service.parse_number(raw_value)
        if value is None:
            raise InvalidInput(_("Write a number, e.g. 1200 or 45,5."), field="value")
        targets_service.set_target(
            db,
            user,
            indicator=indicator,
            year=year,
            municipality=form.get("municipality") or None,
            value=value,
            note=form.get("note", ""),
            now=now,
        )
    except InvalidInput as error:
        db.rollback()
        return _targets_page(request, db, user, now, values=form, errors=form_errors(error))
    return redirect(request, "/barometer/targets?notice=saved")


# --- national statistics (coordinators) ----------------------------------------------------------


def _national_page(request, db, user, now, *, values=None, errors=None, row_errors=None, notice=None,
                   imported=None) -> Response:
    this_year = now.astimezone(TIMEZONE).year
    shown_year, figures = targets_service.national_figures(db, this_year + 1)
    return render(
        request,
        "barometer/national.html",
        {
            "shown_year": shown_year,
            "national": figures,
            "values": values or {},
            "errors": errors or {},
            "row_errors": row_errors or [],
            "notice": notice,
            "imported": imported,
            "max_rows": targets_service.MAX_IMPORT_ROWS,
        },
        status_code=422 if errors or row_errors else 200,
    )


@router.get("/barometer/national")
def national_page(
    request: Request, db: SessionDep, user: StaffPageUser, now: Now, notice: str | None = None,
    imported: str | None = None,
) -> Response:
    count = int_or_none(imported, 0, targets_service.MAX_IMPORT_ROWS)
    return _national_page(request, db, user, now, notice=notice, imported=count)


@router.post("/barometer/national")
async def import_national(request: Request, db: SessionDep, user: StaffPageUser, now: Now) -> Response:
    """A CSV file uploaded, or its text pasted: all its rows are imported, or none."""
    form = await request.form()  # read once already, by the CSRF check
    upload = form.get("file")
    pasted = form.get("csv_text")
    text = ""
    if upload is not None and not isinstance(upload, str) and upload.filename:
        raw = await upload.read(MAX_CSV_BYTES + 1)
        if len(raw) > MAX_CSV_BYTES:
            return _national_page(request, db, user, now, errors={"file": _("The file is too large: at most 1 MB.")})
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")  # a spreadsheet saved in Windows' encoding
    elif isinstance(pasted, str) and pasted.strip():
        if "\x00" in pasted:
            return _national_page(request, db, user, now, values={"csv_text": ""},
                                  errors={"csv_text": _("Remove the special characters (control characters) from the text.")})
        text = pasted
    if not text.strip():
        return _national_page(request, db, user, now, values={"csv_text": pasted or ""},
                              errors={"csv_text": _("Choose a CSV file or paste its text.")})
    count, row_errors = targets_service.import_national(db, user, text, now=now)
    if row_errors:
        db.rollback()
        return _national_page(request, db, user, now, values={"csv_text": text if len(text) < 100_000 else ""},
                              row_errors=row_errors)
    return redirect(request, f"/barometer/national?notice=saved&imported={count}")
