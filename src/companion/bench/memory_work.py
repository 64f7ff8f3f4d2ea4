"""The queued memory work alone: items per second and CPU per item of one worker process.

Fills the post-turn queue with real turns (the real pipeline, an instant loopback
model, ``--users`` users taking turns, no worker running), then lets this process's
queue workers (``--tasks`` of them, as ``companion worker`` would run them) work it
off and measures the drain only: wall time, this process's CPU (the worker, the
embedder's threads included), the database's CPU, SQL statements and transactions per
item, and the texts embedded (cache misses) and found in the embedding cache.

``--texts varied`` (default): every message differs (made from word lists) and the
model's reply echoes it, as in real use, so each turn has texts to embed; ``repeated``:
the gateway bench's five messages and one reply, which after the first few turns are all
found in the embedding cache.

Run: ``python -m companion.bench.memory_work --turns 400`` (its own COMPANION_HOME,
embedded PostgreSQL; a scratch home unless ``--home``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import event

from companion.bench.gateway import MESSAGES, postgres_cpu_seconds, stop
from companion.bench.serving import free_port, loopback_env, wait_ready

__all__ = ["varied_messages", "work_off"]

_PEOPLE = "sister brother mum dad friend neighbour colleague cousin grandma boss".split()
_PLACES = "Lisbon Porto Berlin Osaka Denver Leeds Quito Tartu Split Bergen".split()
_THINGS = (
    "a pottery class|the new bakery|a chess club|an old bicycle|the garden|a jazz record|"
    "the night market|a long hike|a sourdough starter|the harbour|a yoga course|a film festival"
).split("|")
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_TEMPLATES = (
    "My {person} and I went to {thing} on {day}, it was {mood}.",
    "I keep thinking about {thing}, my {person} says it is {mood}.",
    "My {person} lives in {place} now.",
    "On {day} I tried {thing} in {place} and it felt {mood}.",
    "I work in {place} these days and {thing} is close to the office.",
    "Do you think my {person} would like {thing}?",
    "It rained all {day} so I stayed home and read about {thing}.",
    "I moved to {place} last year and I still miss my {person}.",
)
_MOODS = "great|a bit strange|exhausting|really calm|funny|lovely|too loud".split("|")


def varied_messages(count: int, *, seed: int = 7) -> list[str]:
    """``count`` chat messages that (nearly) never repeat, some of them stating facts."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        text = rng.choice(_TEMPLATES).format(
            person=rng.choice(_PEOPLE), place=rng.choice(_PLACES), thing=rng.choice(_THINGS),
            day=rng.choice(_DAYS), mood=rng.choice(_MOODS),
        )  # fmt: skip
        out.append(text)
    return out


def _cpu() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


async def _fill(runtime: Any, messages: list[str], users: int) -> float:
    """Answer every message (user ``n % users``), users in parallel; the seconds it took."""
    from companion.conversation.types import TurnRequest

    started = time.perf_counter()

    async def user(n: int) -> None:
        for text in messages[n::users]:
            result = await runtime.conversation.turn(
                TurnRequest(user_id=f"work-{n:03d}", text=text)
            )
            if result.error:
                raise SystemExit(f"a turn failed while filling the queue: {result.error}")

    await asyncio.gather(*(user(n) for n in range(users)))
    return time.perf_counter() - started


async def work_off(queue: Any, every: float = 0.25) -> int:
    """Run ``queue``'s workers until nothing is pending or running, then stop them;
    how many times the queue's counts were read (each is one statement)."""
    queue.start()
    polls = 0
    try:
        while True:
            await asyncio.sleep(every)
            polls += 1
            counts = await queue.counts()
            if not counts.get("pending") and not counts.get("running"):
                return polls
    finally:
        await queue.stop()


async def _drain(
    runtime: Any, home: Path, tasks: int, profile: Path | None = None
) -> dict[str, Any]:
    """Run the queue's workers until nothing is pending; what that cost."""
    queue = runtime.conversation.queue
    queue.concurrency = tasks
    embedder = runtime.models.embedder
    before = await queue.counts()
    items = before.get("pending", 0)
    statements = [0]
    transactions = [0]

    def on_execute(*args: Any) -> None:
        if "GROUP BY status" not in str(args[2]):  # this harness's own look
            statements[0] += 1

    def on_begin(*args: Any) -> None:
        transactions[0] += 1

    engine = runtime.db.engine.sync_engine
    hits, misses = embedder.hits, embedder.misses
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "begin", on_begin)
    cpu, database, started = _cpu(), postgres_cpu_seconds(home), time.perf_counter()
    profiler = cProfile.Profile(time.process_time) if profile is not None else None
    if profiler is not None:
        profiler.enable()
    try:
        polls = await work_off(queue)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile))
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "begin", on_begin)
    wall = time.perf_counter() - started
    cpu, database = _cpu() - cpu, postgres_cpu_seconds(home) - database
    done = (await queue.counts()).get("done", 0) - before.get("done", 0)
    per = max(1, done)
    return {
        "items": done,
        "queued_at_start": items,
        "seconds": round(wall, 2),
        "items_per_s": round(done / wall, 1),
        "cpu_ms_per_item": {
            "worker": round(cpu * 1000 / per, 2),
            "postgres": round(database * 1000 / per, 2),
        },
        "items_per_cpu_s": round(done / max(1e-9, cpu + database), 1),
        "statements_per_item": round(statements[0] / per, 2),
        "transactions_per_item": round((transactions[0] - polls) / per, 2),
        "texts_embedded_per_item": round((embedder.misses - misses) / per, 2),
        "texts_cached_per_item": round((embedder.hits - hits) / per, 2),
    }


async def _run(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    from companion.runtime import Runtime
    from companion.settings import get_settings

    runtime = await Runtime.start(get_settings())
    try:
        if args.texts == "varied":
            messages = varied_messages(args.turns)
        else:
            messages = [MESSAGES[n % len(MESSAGES)] for n in range(args.turns)]
        fill = await _fill(runtime, messages, args.users)
        result = await _drain(runtime, home, args.tasks, args.profile)
        result["fill_seconds"] = round(fill, 1)
        return result
    finally:
        await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=400, help="queued items to work off")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--tasks", type=int, default=2, help="worker tasks (QUEUE_WORKERS)")
    parser.add_argument("--texts", choices=("varied", "repeated"), default="varied")
    parser.add_argument("--home", type=Path, default=None, help="COMPANION_HOME (temporary)")
    parser.add_argument(
        "--profile", type=Path, default=None, help="write the drain's profile (pstats) here"
    )
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="companion-bench-"))
    llm_port = free_port()
    os.environ.update(loopback_env(home, llm_port))
    echo = ["--echo"] if args.texts == "varied" else []
    llm = subprocess.Popen(
        [sys.executable, "-m", "companion.bench.gateway_llm", "--port", str(llm_port), *echo]
    )
    try:
        wait_ready(f"http://127.0.0.1:{llm_port}/v1/models")
        result = asyncio.run(_run(args, home))
        result.update(
            texts=args.texts, users=args.users, tasks=args.tasks,
            load_average=round(os.getloadavg()[0], 2),
        )  # fmt: skip
        print(json.dumps(result, indent=2))
    finally:
        stop([llm])
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
