"""The coordinators' yearly targets per indicator and the national statistics they import, and how
far the barometer's figures have come towards the targets. No HTTP here: the pages and any API
call these."""

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.barometer.models import NationalFigure, Target
from app.errors import Forbidden, InvalidInput, NotFound
from app.geography import MUNICIPALITIES
from app.i18n import TIMEZONE, _

# The indicators a target can be set for: the keys of the barometer's totals (API.md).
INDICATORS: tuple[str, ...] = (
    "bookings",
    "classes",
    "pupils",
    "girls",
    "girls_share",
    "schools_reached",
    "schools_total",
    "providers_active",
    "mentors_active",
    "mentor_hours",
    "evaluations",
    "evaluation_score",
    "company_weeks",
    "girls_day_places",
)
# Indicators written as a percentage (a target of 50 means 50 %), and the evaluation's 1-5 scale.
PERCENT_INDICATORS = frozenset({"girls_share"})
SCALE_INDICATORS = frozenset({"evaluation_score"})

FIRST_YEAR = 2000
YEARS_AHEAD = 20  # the pact looks to 2030 and beyond
MAX_VALUE = 10_000_000
NOTE_LENGTH = 300
SOURCE_LENGTH = 300
INDICATOR_LENGTH = 60
MAX_IMPORT_ROWS = 10_000
_INDICATOR_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


# --- who may -------------------------------------------------------------------------------------


def _staff(actor: User) -> None:
    if not actor.is_staff:
        raise Forbidden(_("Only coordinators and administrators may do this."))


def in_scope(actor: User, municipality: str | None) -> bool:
    """A municipality's coordinator keeps their own municipality's targets and figures; the
    region's coordinators and the admins keep all, the region-wide ones too."""
    return not (actor.role == Role.coordinator and actor.municipality and municipality != actor.municipality)


# --- targets -------------------------------------------------------------------------------------


def percent(share: float) -> float:
    """A share as a percentage, whether the figures give it as a fraction (0.48) or already in
    per cent (48.0): a share of girls is never above 100 % nor, as a fraction, above 1."""
    return share * 100 if 0 <= share <= 1 else share


def _check_value(indicator: str, value: float, field: str = "value") -> None:
    if value != value or value < 0:  # NaN too
        raise InvalidInput(_("Write a number of at least %(limit)s.") % {"limit": 0}, field=field)
    if indicator in PERCENT_INDICATORS and value > 100:
        raise InvalidInput(_("Write a percentage from 0 to 100."), field=field)
    if indicator in SCALE_INDICATORS and not 1 <= value <= 5:
        raise InvalidInput(_("Write a score from 1 to 5."), field=field)
    if value > MAX_VALUE:
        raise InvalidInput(_("Write a number of at most %(limit)s.") % {"limit": MAX_VALUE}, field=field)


def target_years(now: datetime) -> range:
    """The years a target can be set for: the portal's first to twenty years ahead."""
    return range(FIRST_YEAR, now.astimezone(TIMEZONE).year + YEARS_AHEAD + 1)


def set_target(
    db: Session,
    actor: User,
    *,
    indicator: str,
    year: int,
    municipality: str | None,
    value: float,
    note: str = "",
    now: datetime,
) -> Target:
    """Set the target for one indicator and year, region-wide (no municipality) or for one
    municipality; setting it again changes its value and note."""
    _staff(actor)
    if indicator not in INDICATORS:
        raise InvalidInput(_("Choose one of the options in the list."), field="indicator")
    if year not in target_years(now):
        raise InvalidInput(
            _("Write a year from %(first)d to %(last)d.")
            % {"first": FIRST_YEAR, "last": target_years(now)[-1]},
            field="year",
        )
    municipality = municipality or None
    if municipality is not None and municipality not in MUNICIPALITIES:
        raise InvalidInput(_("Choose one of the municipalities in the list."), field="municipality")
    if not in_scope(actor, municipality):
        raise InvalidInput(
            _("You can only set targets for %(municipality)s.") % {"municipality": actor.municipality},
            field="municipality",
        )
    _check_value(indicator, value)
    note = (note or "").strip()
    if len(note) > NOTE_LENGTH:
        raise InvalidInput(_("Use at most %(count)d characters.") % {"count": NOTE_LENGTH}, field="note")
    scope = col(Target.municipality).is_(None) if municipality is None else col(Target.municipality) == municipality
    target = db.exec(
        select(Target).where(Target.indicator == indicator, Target.year == year, scope)
    ).first()
    if target is None:
        target = Target(indicator=indicator, year=year, municipality=municipality, value=value, set_at=now)
    target.value = value
    target.note = note
    target.set_by_id = actor.id
    target.set_at = now
    db.add(target)
    db.commit()
    db.refresh(target)
    return target


def delete_target(db: Session, actor: User, target_id: int) -> None:
    _staff(actor)
    target = db.get(Target, target_id)
    if target is None or not in_scope(actor, target.municipality):
        raise NotFound(_("No such target."))
    db.delete(target)
    db.commit()


def list_targets(db: Session, *, municipality: str | None = None) -> Sequence[Target]:
    """Every target, newest year first; for a municipality, the region's and its own."""
    query = select(Target)
    if municipality:
        query = query.where(or_(col(Target.municipality).is_(None), col(Target.municipality) == municipality))
    return db.exec(
        query.order_by(
            col(Target.year).desc(),
            col(Target.municipality).is_not(None),
            col(Target.municipality),
            col(Target.indicator),
        )
    ).all()


def targets_for(db: Session, year: int, municipality: str | None) -> list[Target]:
    """The targets that the figures of a year are measured against: the region's, or those of one
    municipality, in the order of INDICATORS."""
    scope = col(Target.municipality).is_(None) if municipality is None else col(Target.municipality) == municipality
    found = db.exec(select(Target).where(Target.year == year, scope)).all()
    return sorted(found, key=lambda t: INDICATORS.index(t.indicator) if t.indicator in INDICATORS else len(INDICATORS))


@dataclass(frozen=True)
class Progress:
    indicator: str
    year: int
    municipality: str | None
    target: float
    actual: float | None  # None when the figure is suppressed or not counted
    note: str

    @property
    def share(self) -> float | None:
        """How far towards the target, from 0 (nothing) to 1 (reached or beyond)."""
        if self.actual is None:
            return None
        if self.target <= 0:
            return 1.0
        return max(0.0, min(1.0, self.actual / self.target))

    @property
    def reached(self) -> bool:
        return self.actual is not None and self.actual >= self.target


def progress(targets: Sequence[Target], figures: dict) -> list[Progress]:
    """Each target beside the figure it is measured against (figures in API.md's shape); a share
    is compared in per cent, as its target is written."""
    totals = figures.get("totals") or {}
    found = []
    for target in targets:
        actual = totals.get(target.indicator)
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            actual = None
        elif target.indicator in PERCENT_INDICATORS:
            actual = percent(float(actual))
        found.append(
            Progress(
                indicator=target.indicator,
                year=target.year,
                municipality=target.municipality,
                target=target.value,
                actual=None if actual is None else float(actual),
                note=target.note,
            )
        )
    return found


# --- national statistics -------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int  # the line of the file, the header being line 1
    message: str

    def __str__(self) -> str:
        return _("Line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


# The header's names, in English or Danish, as people write them in a spreadsheet.
_COLUMNS = {
    "indicator": "indicator",
    "indikator": "indicator",
    "year": "year",
    "år": "year",
    "aar": "year",
    "municipality": "municipality",
    "kommune": "municipality",
    "value": "value",
    "værdi": "value",
    "vaerdi": "value",
    "source": "source",
    "kilde": "source",
}
_REQUIRED = ("indicator", "year", "municipality", "value")
_MUNICIPALITY_BY_KEY = {name.casefold(): name for name in MUNICIPALITIES} | {"århus": "Aarhus"}
_NUMBER = re.compile(r"^[+-]?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$|^[+-]?\d*\.?\d+$")


def parse_number(raw: str) -> float | None:
    """A number as Danish and English spreadsheets write it: 12,5 or 12.5, 1.234,5 with a
    thousands point, spaces and a trailing per cent sign ignored; None if it is not one."""
    text = raw.replace("\u00a0", "").replace(" ", "").removesuffix("%")
    if not text or not _NUMBER.match(text):
        return None
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def _delimiter(header: str) -> str:
    return ";" if header.count(";") >= header.count(",") and ";" in header else ","


def read_national_csv(
    csv_text: str, *, actor: User, now: datetime
) -> tuple[list[dict], list[RowError]]:
    """The rows of a national statistics file, each checked on its own: (rows, errors), every
    error naming its line. Columns indicator;year;municipality;value;source (source optional)."""
    text = csv_text.lstrip("\ufeff")
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        return [], [RowError(1, _("The file is empty."))]
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(lines[0]))
    header = [_COLUMNS.get(name.strip().casefold(), name.strip()) for name in next(reader)]
    missing = [name for name in _REQUIRED if name not in header]
    if missing:
        return [], [
            RowError(
                1,
                _("The first line must name the columns indicator;year;municipality;value;source. Missing: %(columns)s.")
                % {"columns": ", ".join(missing)},
            )
        ]
    position = {name: header.index(name) for name in (*_REQUIRED, "source") if name in header}
    this_year = now.astimezone(TIMEZONE).year
    rows: list[dict] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, int, str], int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, as a spreadsheet leaves at the end
        if len(rows) + len(errors) >= MAX_IMPORT_ROWS:
            errors.append(RowError(line, _("The file has more than %(count)d rows. Split it in parts.") % {"count": MAX_IMPORT_ROWS}))
            break

        def cell(name: str, cells: list[str] = cells) -> str:
            index = position.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        indicator = cell("indicator").casefold()
        if not indicator:
            errors.append(RowError(line, _("The indicator is missing.")))
            continue
        if len(indicator) > INDICATOR_LENGTH or not _INDICATOR_CODE.match(indicator):
            errors.append(
                RowError(
                    line,
                    _("The indicator “%(indicator)s” must be a short code of small letters, digits and _, e.g. stem_start_share.")
                    % {"indicator": cell("indicator")[:INDICATOR_LENGTH]},
                )
            )
            continue
        raw_year = cell("year")
        year = int(raw_year) if raw_year.isdigit() and len(raw_year) == 4 else None
        if year is None or not FIRST_YEAR <= year <= this_year + 1:
            errors.append(
                RowError(
                    line,
                    _("The year “%(year)s” is not a year from %(first)d to %(last)d.")
                    % {"year": raw_year[:20], "first": FIRST_YEAR, "last": this_year + 1},
                )
            )
            continue
        municipality = _MUNICIPALITY_BY_KEY.get(cell("municipality").casefold())
        if municipality is None:
            errors.append(
                RowError(
                    line,
                    _("“%(municipality)s” is not one of the region's 19 municipalities.")
                    % {"municipality": cell("municipality")[:40]},
                )
            )
            continue
        if not in_scope(actor, municipality):
            errors.append(
                RowError(
                    line,
                    _("You can only import figures for %(municipality)s.") % {"municipality": actor.municipality},
                )
            )
            continue
        raw_value = cell("value")
        value = parse_number(raw_value)
        if value is None:
            errors.append(
                RowError(line, _("The value “%(value)s” is not a number.") % {"value": raw_value[:40]})
            )
            continue
        if abs(value) > MAX_VALUE:
            errors.append(
                RowError(line, _("The value %(value)s is too large.") % {"value": raw_value[:40]})
            )
            continue
        source = cell("source")
        if len(source) > SOURCE_LENGTH:
            errors.append(
                RowError(line, _("The source is longer than %(count)d characters.") % {"count": SOURCE_LENGTH})
            )
            continue
        key = (indicator, year, municipality)
        if key in seen:
            errors.append(
                RowError(
                    line,
                    _("The same indicator, year and municipality as line %(first)d.") % {"first": seen[key]},
                )
            )
            continue
        seen[key] = line
        rows.append(
            {"indicator": indicator, "year": year, "municipality": municipality, "value": value, "source": source}
        )
    if not rows and not errors:
        errors.append(RowError(2, _("The file has no rows of figures below its first line.")))
    return rows, errors


def import_national(
    db: Session, actor: User, csv_text: str, *, now: datetime
) -> tuple[int, list[RowError]]:
    """Import national statistics from a CSV file, all or nothing: if any row is wrong nothing is
    saved, and every wrong row is told; else each row replaces the figure of its indicator, year
    and municipality. Returns (rows imported, errors)."""
    _staff(actor)
    rows, errors = read_national_csv(csv_text, actor=actor, now=now)
    if errors:
        return 0, errors
    existing = {
        (f.indicator, f.year, f.municipality): f
        for f in db.exec(
            select(NationalFigure).where(col(NationalFigure.indicator).in_({r["indicator"] for r in rows}))
        ).all()
    }
    for row in rows:
        figure = existing.get((row["indicator"], row["year"], row["municipality"]))
        if figure is None:
            figure = NationalFigure(**row, imported_at=now)
        figure.value = row["value"]
        figure.source = row["source"]
        figure.imported_at = now
        db.add(figure)
    db.commit()
    return len(rows), []


def national_indicators(db: Session) -> list[str]:
    return list(db.exec(select(NationalFigure.indicator).distinct().order_by(col(NationalFigure.indicator))).all())


def national_figures(db: Session, year: int) -> tuple[int | None, dict[str, dict[str, NationalFigure]]]:
    """The national figures to show beside a year's: that year's, or if none was imported for it,
    the latest earlier year's. (year shown, {indicator: {municipality: figure}})."""
    shown = db.exec(
        select(NationalFigure.year).where(NationalFigure.year <= year).order_by(col(NationalFigure.year).desc()).limit(1)
    ).first()
    if shown is None:
        return None, {}
    found: dict[str, dict[str, NationalFigure]] = {}
    for figure in db.exec(select(NationalFigure).where(NationalFigure.year == shown)).all():
        found.setdefault(figure.indicator, {})[figure.municipality] = figure
    return shown, dict(sorted(found.items()))
