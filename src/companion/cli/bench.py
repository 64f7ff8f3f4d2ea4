"""``companion bench …``: each domain registers one subcommand from its own module."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(help="Measure speed and quality; figures go to docs/BENCHMARKS.md.")

# Each domain's bench module adds its command to ``app`` when imported (one line each).
from companion.cli import bench_models  # noqa: E402, F401  (registers `bench models`)
from companion.cli import bench_security  # noqa: E402, F401  (registers `bench security`)
from companion.cli import bench_proactive  # noqa: E402, F401  (registers `bench proactive`)
from companion.cli import bench_personality  # noqa: E402, F401  (registers `bench personality`)
from companion.cli import bench_memory  # noqa: E402, F401  (registers `bench memory`)
from companion.cli import bench_gateway  # noqa: E402, F401  (registers `bench gateway`)
