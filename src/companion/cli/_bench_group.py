"""The ``companion bench`` Typer group that each domain's bench module registers on."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(help="Measure speed and quality; figures go to docs/BENCHMARKS.md.")
