"""Server-made SVG charts: line charts with data points, and horizontal bars.

Pure functions from numbers to SVG text (no I/O, no JavaScript, nothing vendored).
Every data point is a ``<circle class="point">`` with a ``<title>`` so a browser shows
its value on hover and tests can count points; every chart has a ``<title>`` and
``role="img"`` for screen readers. Text is escaped here, so the result is safe to
insert into a page as-is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

from markupsafe import Markup

__all__ = ["PALETTE", "Bar", "Series", "bar_chart", "line_chart"]

#: Colour-blind-friendly (Okabe-Ito), dark enough on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


@dataclass(frozen=True)
class Series:
    """One line: points are (x, y); x is a number or a datetime."""

    name: str
    points: Sequence[tuple[float | datetime, float]]
    color: str = ""
    dashed: bool = False
    labels: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class Bar:
    """One horizontal bar."""

    label: str
    value: float
    note: str = ""


def _x(value: float | datetime) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _x_label(value: float, is_time: bool) -> str:
    if not is_time:
        return f"{value:g}"
    return datetime.fromtimestamp(value, UTC).strftime("%m-%d %H:%M")


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
    y_range: tuple[float, float] | None = None,
    y_label: str = "",
) -> Markup:
    """A line chart of ``series`` sharing one x axis (time or numbers)."""
    left, right, top, bottom = 48, 12, 14, 38
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [_x(x) for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points]
    is_time = any(isinstance(x, datetime) for s in series for x, _ in s.points)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    if not xs:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" '
            f'class="empty">no data yet</text></svg>'
        )
        return Markup("".join(parts))
    x_lo, x_hi = min(xs), max(xs)
    y_lo, y_hi = y_range if y_range else (min(ys), max(ys))
    if y_hi - y_lo < 1e-9:
        y_lo, y_hi = y_lo - 1, y_hi + 1
    span_x = (x_hi - x_lo) or 1.0

    def px(x: float) -> float:
        return left + (x - x_lo) / span_x * plot_w if x_hi > x_lo else left + plot_w / 2

    def py(y: float) -> float:
        return top + (1 - (y - y_lo) / (y_hi - y_lo)) * plot_h

    parts.append(
        f'<g class="axes" stroke="#6b7280" stroke-width="1">'
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/></g>'
    )
    for value in (y_lo, (y_lo + y_hi) / 2, y_hi):
        y = py(value)
        tick = f"{value:.2f}" if y_hi - y_lo < 5 and value != int(value) else _fmt(value)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(tick)}</text>"
        )
    ends = ((x_lo, "start"), (x_hi, "end")) if x_hi > x_lo else ((x_lo, "middle"),)
    for value, anchor in ends:
        parts.append(
            f'<text x="{px(value):.1f}" y="{height - 22}" text-anchor="{anchor}" class="tick">'
            f"{escape(_x_label(value, is_time))}</text>"
        )
    if y_label:
        parts.append(f'<text x="4" y="{top - 2}" class="tick">{escape(y_label)}</text>')
    legend_x = left
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        points = [(px(_x(x)), py(y)) for x, y in s.points]
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(
            f'<g class="series" data-name="{escape(s.name)}">'
            f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{path}"/>'
        )
        if not s.dashed:
            for j, ((cx, cy), (x, y)) in enumerate(zip(points, s.points, strict=True)):
                label = s.labels[j] if j < len(s.labels) else _x_label(_x(x), is_time)
                parts.append(
                    f'<circle class="point" cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{color}">'
                    f"<title>{escape(s.name)} {escape(_fmt(y))} ({escape(label)})</title></circle>"
                )
        parts.append("</g>")
        if s.dashed:  # reference lines share their series' colour; the title says so
            continue
        parts.append(
            f'<g class="legend"><rect x="{legend_x}" y="{height - 12}" width="10" height="10" '
            f'fill="{color}"/><text x="{legend_x + 14}" y="{height - 3}" class="tick">'
            f"{escape(s.name)}</text></g>"
        )
        legend_x += 18 + 7 * len(s.name) + 10
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    maximum: float = 1.0,
    width: int = 420,
    color: str = PALETTE[0],
    highlight: float | None = None,
) -> Markup:
    """Horizontal bars from 0 to ``maximum``; bars above ``highlight`` are orange."""
    row, label_w = 24, 130
    height = row * max(1, len(bars)) + 8
    plot_w = width - label_w - 56
    parts = [
        f'<svg class="chart bars" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * row
        share = max(0.0, min(1.0, bar.value / maximum)) if maximum else 0.0
        fill = PALETTE[1] if highlight is not None and bar.value > highlight else color
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" class="tick">'
            f"{escape(bar.label)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{plot_w}" height="14" fill="#eef0f3"/>'
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{share * plot_w:.1f}" '
            f'height="14" fill="{fill}"><title>{escape(bar.label)} {escape(_fmt(bar.value))}'
            f"{escape(' ' + bar.note if bar.note else '')}</title></rect>"
            f'<text x="{label_w + plot_w + 6}" y="{y + 15}" class="tick">'
            f"{escape(_fmt(bar.value))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
