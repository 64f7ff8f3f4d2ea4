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
_SCENARIOS = ("kill", "disconnect", "fallback", "redis", "postgres", "schema")


@app.command("reliability")
def reliability(
    scenario: Annotated[
        str, typer.Argument(help="kill | disconnect | fallback | redis | postgres | schema")
    ],
    users: Annotated[int, typer.Option(help="Concurrent simulated users.")] = 20,
    seconds: Annotated[float, typer.Option(help="Duration of the load.")] = 20.0,
    turns: Annotated[int, typer.Option(help="Turns per user (disconnect).")] = 5,
    stop: Annotated[bool, typer.Option(help="disconnect with TURN_ON_DISCONNECT=stop")] = False,
    mode: Annotated[
        str, typer.Option(help="postgres: restart | kill | external (stopped, then started)")
    ] = "restart",
    down: Annotated[float, typer.Option(help="postgres external: seconds it stays down")] = 5.0,
    examples: Annotated[int, typer.Option(help="schema: examples per operation")] = 50,
    seed: Annotated[int, typer.Option(help="schema: the random seed")] = 21,
) -> None:
    """A real `companion serve` under faults: kill -9, dropped streams, failing LLM, Redis
    or PostgreSQL going away, and a long schemathesis run over its OpenAPI spec."""
    if scenario not in _SCENARIOS:
        print(f"error: scenario must be one of {', '.join(_SCENARIOS)}", file=sys.stderr)
        raise SystemExit(2)
    if mode not in {"restart", "kill", "external"}:
        print("error: --mode must be restart, kill or external", file=sys.stderr)
        raise SystemExit(2)
    if not _SCRIPT.exists():
        print(f"error: {_SCRIPT} not found (run from a source checkout)", file=sys.stderr)
        raise SystemExit(1)
    command = [sys.executable, str(_SCRIPT), scenario, "--users", str(users),
               "--seconds", str(seconds), "--turns", str(turns)]  # fmt: skip
    command += ["--mode", mode, "--down", str(down), "--examples", str(examples),
                "--seed", str(seed)]  # fmt: skip
    if stop:
        command.append("--stop")
    raise SystemExit(subprocess.call(command))
