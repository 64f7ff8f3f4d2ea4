"""``companion bench gateway``: runs ``bench/gateway_bench.py`` (needs the source tree)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from companion.cli._bench_group import app

__all__ = ["gateway"]

_SCRIPT = Path(__file__).resolve().parents[3] / "bench" / "gateway_bench.py"


@app.command("gateway")
def gateway(
    users: Annotated[int, typer.Option(help="Concurrent simulated users.")] = 100,
    seconds: Annotated[float, typer.Option(help="Measured duration.")] = 30.0,
    workers: Annotated[int, typer.Option(min=1, help="Server processes (serve --workers).")] = 1,
) -> None:
    """Turns/s and turn overhead of a real `companion serve` with an instant LLM."""
    if not _SCRIPT.exists():
        print(f"error: {_SCRIPT} not found (run from a source checkout)", file=sys.stderr)
        raise SystemExit(1)
    command = [sys.executable, str(_SCRIPT), "--users", str(users), "--seconds", str(seconds)]
    command += ["--workers", str(workers)]
    raise SystemExit(subprocess.call(command))
