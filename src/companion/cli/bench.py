"""``companion bench …``: the command line over ``companion.bench`` (one command per area).

Each command only parses options, loads settings and prints what the harness returns;
the measuring lives in ``companion.bench``. Figures go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from companion.cli import _common
from companion.cli import bench_conversation as _conversation  # noqa: F401 (registers it)
from companion.cli import bench_llm as _llm  # noqa: F401 (registers it)
from companion.cli._bench_group import app
from companion.errors import CompanionError, InvalidInput

__all__ = ["app"]

_RELIABILITY_SCENARIOS = ("kill", "disconnect", "fallback", "redis", "postgres", "schema")


def _report(measure: Callable[[], str]) -> None:
    """Print what ``measure`` returns; a domain error is one line on stderr and exit 1."""
    try:
        text = measure()
    except CompanionError as exc:
        _common.fail(str(exc))
        raise  # unreachable
    typer.echo(text)


def _module(name: str, *args: str) -> None:
    """Run ``python -m companion.bench.<name>`` (harnesses that start their own server)."""
    raise SystemExit(subprocess.call([sys.executable, "-m", f"companion.bench.{name}", *args]))


@app.command("gateway")
def gateway(
    users: Annotated[int, typer.Option(help="Concurrent simulated users.")] = 100,
    seconds: Annotated[float, typer.Option(help="Measured duration.")] = 30.0,
    workers: Annotated[int, typer.Option(min=1, help="Server processes (serve --workers).")] = 1,
    separate_worker: Annotated[
        bool, typer.Option(help="Run the memory work in one `companion worker` process.")
    ] = False,
    pg_stats: Annotated[
        bool, typer.Option(help="Also report what PostgreSQL did per turn (pg_stat_*).")
    ] = False,
    breakdown: Annotated[
        bool,
        typer.Option(help="Also report the slowest 5 % of turns' time step by step."),
    ] = False,
) -> None:
    """Turns/s and turn overhead of a real `companion serve` with an instant LLM."""
    extra = ["--separate-worker"] if separate_worker else []
    extra += ["--pg-stats"] if pg_stats else []
    extra += ["--breakdown"] if breakdown else []
    _module(
        "gateway", "--users", str(users), "--seconds", str(seconds), "--workers", str(workers),
        *extra,
    )  # fmt: skip


@app.command("memory-work")
def memory_work(
    turns: Annotated[int, typer.Option(help="Queued items to work off.")] = 400,
    users: Annotated[int, typer.Option(help="Users whose turns fill the queue.")] = 8,
    texts: Annotated[str, typer.Option(help="varied | repeated")] = "varied",
) -> None:
    """Items/s and CPU per item of one worker process working off the memory queue."""
    _module("memory_work", "--turns", str(turns), "--users", str(users), "--texts", texts)


@app.command("recency-job")
def recency_job(
    memories: Annotated[int, typer.Option(help="Memories in the scratch table.")] = 20_000,
    users: Annotated[int, typer.Option(help="Users they belong to.")] = 20,
    accessed: Annotated[float, typer.Option(help="Share of them retrieved before.")] = 0.1,
) -> None:
    """Rows, index entries and WAL that one run of the nightly recency job writes."""
    _module(
        "recency_job", "--memories", str(memories), "--users", str(users),
        "--accessed", str(accessed),
    )  # fmt: skip


@app.command("turn-cpu")
def turn_cpu(
    turns: Annotated[int, typer.Option(help="Measured turns (all users together).")] = 160,
    users: Annotated[int, typer.Option(help="Users taking turns at once.")] = 8,
    profile: Annotated[
        Path | None, typer.Option(help="Write the turn path's cProfile stats to this file.")
    ] = None,
) -> None:
    """Python calls and CPU per turn in one process: the turn path and its memory work."""
    extra = ("--profile", str(profile)) if profile is not None else ()
    _module("turn_cpu", "--turns", str(turns), "--users", str(users), *extra)


@app.command("front")
def front(
    requests: Annotated[int, typer.Option(help="Requests per route measured.")] = 2000,
    deltas: Annotated[int, typer.Option(help="Pieces of a streamed reply.")] = 8,
) -> None:
    """Python calls and CPU per request in the HTTP front, with a turn that costs nothing."""
    _module("front", "--requests", str(requests), "--deltas", str(deltas))


@app.command("clients")
def clients(
    requests: Annotated[int, typer.Option(help="Streamed model requests.")] = 400,
    concurrency: Annotated[int, typer.Option(help="Model requests at once.")] = 8,
    redis_calls: Annotated[int, typer.Option(help="Redis calls of each kind.")] = 2000,
) -> None:
    """Python calls and CPU per model request and per Redis call (REDIS_URL, if set)."""
    _module(
        "clients", "--requests", str(requests), "--concurrency", str(concurrency),
        "--redis-calls", str(redis_calls),
    )  # fmt: skip


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
    if scenario not in _RELIABILITY_SCENARIOS:
        _common.fail(f"scenario must be one of {', '.join(_RELIABILITY_SCENARIOS)}", code=2)
    if mode not in {"restart", "kill", "external"}:
        _common.fail("--mode must be restart, kill or external", code=2)
    args = [scenario, "--users", str(users), "--seconds", str(seconds), "--turns", str(turns)]
    args += ["--mode", mode, "--down", str(down), "--examples", str(examples), "--seed", str(seed)]
    _module("reliability", *args, *(["--stop"] if stop else []))


@app.command("memory")
def memory(
    data: Annotated[Path | None, typer.Option(help="LoCoMo-format JSON file.")] = None,
    quality: Annotated[bool, typer.Option(help="Run the quality harness.")] = True,
    latency: Annotated[bool, typer.Option(help="Run the latency benchmark.")] = True,
    total: Annotated[int, typer.Option(help="Rows in the scratch table.")] = 1_000_000,
    heavy: Annotated[int, typer.Option(help="Memories of the heavy user.")] = 100_000,
    medium: Annotated[int, typer.Option(help="Memories of the medium user.")] = 10_000,
    rebuild: Annotated[bool, typer.Option(help="Drop and rebuild the scratch data.")] = False,
) -> None:
    """Measure memory quality and speed; print Markdown for docs/BENCHMARKS.md."""
    from companion.bench import memory as bench

    settings = _common.load()
    _report(
        lambda: bench.run(
            settings=settings, data=data or bench.DEFAULT_DATA, quality=quality,
            latency=latency, total=total, heavy=heavy, medium=medium, rebuild=rebuild,
        )
    )  # fmt: skip


@app.command("models")
def models(
    threads: int = typer.Option(2, help="CPU threads for llama.cpp and onnxruntime."),
    runs: int = typer.Option(5, help="Prompts per time-to-first-token figure."),
    as_json: bool = typer.Option(False, "--json", help="Print raw figures as JSON."),
) -> None:
    """Measure the embedded LLM, the embedder and the provider chain."""
    from companion.bench import models as bench

    _report(lambda: bench.run(threads=threads, runs=runs, as_json=as_json))


@app.command("personality")
def personality(
    messages: Annotated[int, typer.Option(help="Messages to appraise.")] = 20_000,
    users: Annotated[int, typer.Option(help="Users to reflect on.")] = 200,
    turns: Annotated[int, typer.Option(help="Interactions per user in the window.")] = 20,
) -> None:
    """Appraisal latency per message and nightly reflection throughput (rule paths)."""
    from companion.bench import personality as bench

    settings = _common.load(log_format="text")
    _report(lambda: bench.run(settings=settings, messages=messages, users=users, turns=turns))


@app.command("empathy")
def empathy(
    data: Annotated[Path | None, typer.Option(help="Labelled JSON-lines set.")] = None,
    show_misses: Annotated[bool, typer.Option(help="List the messages that missed.")] = False,
) -> None:
    """Agreement of the appraisal with hand-labelled PAD directions, per split and axis."""
    from companion.bench import personality as bench

    path = data or bench.EMPATHY_DATA
    if not path.is_file():
        raise typer.BadParameter(f"no labelled set at {path}")
    _report(lambda: bench.empathy(data=path, show_misses=show_misses))


@app.command("proactive")
def proactive(
    users: int = typer.Option(100_000, help="Users to generate."),
    per_user: int = typer.Option(20, help="Interactions per user in the last 30 days."),
    passes: int = typer.Option(3, help="Proactive passes to time."),
    reflect: int = typer.Option(200, help="Users to run the nightly reflection on (0: skip)."),
) -> None:
    """Time one proactive pass over many users and the nightly reflection."""
    from companion.bench import proactive as bench

    settings = _common.load(log_format="text")
    _report(
        lambda: bench.run(
            settings=settings, users=users, per_user=per_user, passes=passes, reflect=reflect
        )
    )


@app.command("security")
def security(
    data: Annotated[
        Path, typer.Option("--data", help="Folder with injection-dev.jsonl and locomo-dev.json")
    ] = Path("../shared/data"),
    folds: int = typer.Option(5, min=0, help="Cross-validation folds (0 skips it)"),
    holdout: bool = typer.Option(False, "--holdout", help="Also measure the dev hold-out"),
    threshold: float = typer.Option(0.7, min=0.0, max=1.0, help="SECURITY_CONFIDENCE_THRESHOLD"),
    repeats: int = typer.Option(3, min=1, help="Time each check N times, keep the fastest"),
) -> None:
    """TPR/FPR/F1 per category, language and source; FPR on chat; p95 per check."""
    from companion.bench import security as bench

    try:
        text = bench.run(
            data=data, folds=folds, holdout=holdout, threshold=threshold, repeats=repeats
        )
    except InvalidInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(text)
