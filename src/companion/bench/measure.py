"""Helpers every harness shares: where the data lives, percentiles, Markdown tables.

One percentile definition for every figure we publish (nearest rank on the sorted
samples), so two benchmarks' p95 mean the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["DATA", "markdown_table", "percentile"]

#: The committed benchmark data of a source checkout (``bench/data``).
DATA = Path(__file__).resolve().parents[3] / "bench" / "data"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0 ≤ q ≤ 1) by nearest rank; 0.0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[object]], *, align: str
) -> list[str]:
    """A Markdown table's lines; ``align`` has one letter per column: ``l`` or ``r``."""
    rule = "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"
    lines = ["| " + " | ".join(header) + " |", rule]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines
