"""Server-made SVG charts: points, reference lines, escaping, empty data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from companion.web.charts import Bar, Series, bar_chart, line_chart


def test_line_chart_has_a_point_per_value_and_dashed_baselines_without_points() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = [start + timedelta(hours=i) for i in range(4)]
    svg = str(
        line_chart(
            [
                Series(
                    "pleasure", [(t, v) for t, v in zip(times, (0.1, 0.3, -0.2, 0.4), strict=True)]
                ),
                Series("pleasure baseline", [(t, 0.2) for t in times], dashed=True),
            ],
            title="Mood",
            y_range=(-1, 1),
        )
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="point"') == 4
    assert 'stroke-dasharray="6 4"' in svg
    assert "<title>Mood</title>" in svg and "01-01 00:00" in svg and "01-01 03:00" in svg


def test_text_is_escaped() -> None:
    svg = str(line_chart([Series("<script>", [(1, 1.0), (2, 2.0)])], title='a "b" <c>'))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "&lt;c&gt;" in svg


def test_empty_and_single_point() -> None:
    assert "no data yet" in str(line_chart([Series("x", [])], title="t"))
    one = str(line_chart([Series("x", [(5, 3.0)])], title="t"))
    assert one.count('class="point"') == 1 and 'text-anchor="middle"' in one


def test_bars_scale_and_clamp() -> None:
    svg = str(bar_chart([Bar("half", 0.5), Bar("over", 2.0)], title="b", width=420))
    widths = [float(w) for w in re.findall(r'class="bar"[^>]*width="([\d.]+)"', svg)]
    plot = 420 - 130 - 56
    assert widths == [plot / 2, plot]
