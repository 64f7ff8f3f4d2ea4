"""``companion bench reliability …``: runs ``bench/reliability.py`` (needs the source tree)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from companion.cli._bench_group import app

__all__ = ["reliability"]

_SCRIPT = Path(__file__).resolve().parents[3] / "bench" / "reliability.py"


@app.command("reliability")
def reliability(
    scenario: Annotated[str, typer.Argument(help="kill | disconnect | fallback | redis")],
    users: Annotated[int, typer.Option(help="Concurrent simulated users.")] = 20,
    seconds: Annotated[float, typer.Option(help="Duration of the load.")] = 20.0,
    turns: Annotated[int, typer.Option(help="Turns per user (disconnect).")] = 5,
    stop: Annotated[bool, typer.Option(help="disconnect with TURN_ON_DISCONNECT=stop")] = False,
) -> None:
    """A real `companion serve` under faults (kill -9, dropped streams, failing LLM, Redis)."""
    if scenario not in {"kill", "disconnect", "fallback", "redis"}:
        print("error: scenario must be kill, disconnect, fallback or redis", file=sys.stderr)
        raise SystemExit(2)
    if not _SCRIPT.exists():
        print(f"error: {_SCRIPT} not found (run from a source checkout)", file=sys.stderr)
        raise SystemExit(1)
    command = [sys.executable, str(_SCRIPT), scenario, "--users", str(users),
               "--seconds", str(seconds), "--turns", str(turns)]  # fmt: skip
    if stop:
        command.append("--stop")
    raise SystemExit(subprocess.call(command))
