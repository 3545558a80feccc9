"""The geometry of the barometer's charts, drawn as inline SVG by templates/barometer/_charts.html:
server-side, so they need no JavaScript, and each sits beside a table with the same numbers."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: suppressed, drawn as no bar
    text: str  # the number as written beside the bar
    y: float
    width: float


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    bar_height: int
    # where a target line is drawn, if any
    target_x: float | None = None

    @property
    def bar_x(self) -> int:
        return self.label_width


def bar_chart(
    rows: Sequence[tuple[str, float | None, str]],
    *,
    width: int = 400,
    label_width: int = 130,
    bar_height: int = 18,
    gap: int = 6,
    number_width: int = 56,
) -> BarChart:
    """Horizontal bars, one per (label, value, text), scaled to the largest value: a ranked list
    reads at a glance, and the labels stay readable on a phone, where vertical bars do not."""
    largest = max((v for _label, v, _text in rows if v), default=0) or 1
    room = width - label_width - number_width
    bars = [
        Bar(
            label=label,
            value=value,
            text=text,
            y=i * (bar_height + gap),
            width=0 if not value else max(1.0, round(room * value / largest, 1)),
        )
        for i, (label, value, text) in enumerate(rows)
    ]
    height = max(len(rows) * (bar_height + gap) - gap, bar_height)
    return BarChart(bars=bars, width=width, height=height, label_width=label_width, bar_height=bar_height)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # the year
    text: str  # the value as written


@dataclass(frozen=True)
class LineChart:
    points: list[Point]
    width: int
    height: int
    top: int
    bottom: int

    @property
    def path(self) -> str:
        """The line through the known points (a suppressed year breaks it)."""
        parts, pen_down = [], False
        for point in self.points:
            if point.y != point.y:  # NaN: no figure that year
                pen_down = False
                continue
            parts.append(f"{'L' if pen_down else 'M'}{point.x:g},{point.y:g}")
            pen_down = True
        return " ".join(parts)

    @property
    def known(self) -> list[Point]:
        return [p for p in self.points if p.y == p.y]


def line_chart(
    series: Sequence[tuple[str, float | None, str]],
    *,
    width: int = 400,
    height: int = 160,
    top: int = 24,
    bottom: int = 28,
    side: int = 28,
) -> LineChart:
    """A line over the years, from zero to the largest value, each point labelled below with its
    year and above with its value."""
    values = [v for _label, v, _text in series if v is not None]
    largest = max(values, default=0) or 1
    room = height - top - bottom
    step = (width - 2 * side) / max(len(series) - 1, 1)
    points = [
        Point(
            x=round(side + i * step, 1) if len(series) > 1 else width / 2,
            y=float("nan") if value is None else round(top + room * (1 - value / largest), 1),
            label=label,
            text=text,
        )
        for i, (label, value, text) in enumerate(series)
    ]
    return LineChart(points=points, width=width, height=height, top=top, bottom=bottom)


def sparkline(values: Sequence[float | None], *, width: int = 96, height: int = 28) -> str:
    """The path of a small trend line (no labels: the trend table beside it has the numbers)."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1
    step = (width - 4) / max(len(values) - 1, 1)
    parts, pen_down = [], False
    for i, value in enumerate(values):
        if value is None:
            pen_down = False
            continue
        x = round(2 + i * step, 1)
        y = round(height - 3 - (height - 6) * ((value - low) / span if high != low else 0.5), 1)
        parts.append(f"{'L' if pen_down else 'M'}{x:g},{y:g}")
        pen_down = True
    return " ".join(parts)
