"""The shared measurement helpers: one percentile definition, Markdown tables."""

from __future__ import annotations

import pytest

from companion.bench.measure import markdown_table, percentile


def test_percentile_is_the_nearest_rank_of_the_sorted_samples() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 100 … 1, unsorted on purpose
    assert percentile(values, 0.5) == 51.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 1.0) == 100.0
    assert percentile(values, 0.0) == 1.0
    assert percentile([], 0.95) == 0.0


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_percentile_of_one_value_is_that_value(q: float) -> None:
    assert percentile([7.5], q) == 7.5


def test_markdown_table_aligns_columns_as_asked() -> None:
    lines = markdown_table(("split", "n", "rate"), [("train", 3, "0.9")], align="lrr")
    assert lines == ["| split | n | rate |", "|---|---:|---:|", "| train | 3 | 0.9 |"]
