"""CPU per turn in one process: the turn path, then its queued memory work, apart.

Starts the real runtime (its own COMPANION_HOME, embedded PostgreSQL, the local
embedder, an instant loopback chat model), lets ``--users`` users take warm-up turns
and works off their memory work, then measures ``--turns`` more turns of the same
users (the gateway bench's five messages) and, after them, the drain of their memory
work. For each phase: Python function calls per turn (counted by cProfile: they do
not depend on how busy the machine is, unlike time), the same by package (``httpx``,
``redis``, ``companion``, ``stdlib``, ``builtins`` …) and this process's CPU per turn
under the profiler, and PostgreSQL's CPU per turn; then both phases again without the
profiler, for their CPU per turn together. No HTTP: the gateway bench covers that.

Run: ``python -m companion.bench.turn_cpu --turns 160 --users 8``. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from companion.bench.gateway import MESSAGES, postgres_cpu_seconds, stop
from companion.bench.memory_work import work_off
from companion.bench.serving import free_port, loopback_env, wait_ready


def package_of(filename: str) -> str:
    """Where a profiled function lives: a third-party package's name, ``companion``,
    ``stdlib`` or ``builtins`` (cProfile's ``~`` for functions written in C)."""
    if filename == "~" or filename.startswith("<"):
        return "builtins"
    parts = Path(filename).parts
    if "site-packages" in parts:
        rest = parts[parts.index("site-packages") + 1 :]
        return rest[0].removesuffix(".py") if rest else "site-packages"
    if "companion" in parts:
        return "companion"
    return "stdlib"


def calls_by_package(stats: pstats.Stats, turns: int, *, top: int = 15) -> dict[str, int]:
    """Python calls per turn by package, the ``top`` largest (the rest as ``other``)."""
    counts: Counter[str] = Counter()
    for (filename, _, _), row in stats.stats.items():  # type: ignore[attr-defined]
        counts[package_of(filename)] += row[1]  # the call count, recursive calls included
    ranked = counts.most_common()
    out = {name: round(n / turns) for name, n in ranked[:top]}
    rest = sum(n for _, n in ranked[top:])
    if rest:
        out["other"] = round(rest / turns)
    return out


async def _measure(
    home: Path, turns: int, users: int, profile_to: Path | None = None
) -> dict[str, Any]:
    from companion.conversation.types import TurnRequest
    from companion.runtime import Runtime
    from companion.settings import get_settings

    runtime = await Runtime.start(get_settings())
    queue = runtime.conversation.queue

    async def answer(count: int) -> None:
        async def user(n: int) -> None:
            for i in range(count // users):
                result = await runtime.conversation.turn(
                    TurnRequest(user_id=f"cpu-{n:03d}", text=MESSAGES[i % len(MESSAGES)])
                )
                if result.error:
                    raise SystemExit(f"a turn failed: {result.error}")

        await asyncio.gather(*(user(n) for n in range(users)))

    async def drain() -> None:
        await work_off(queue, every=0.1)

    try:
        await answer(users * 5)  # warm-up: the users, their companions and conversations
        await drain()
        out: dict[str, Any] = {"turns": turns, "users": users}

        async def turn_path() -> None:
            await answer(turns)

        for phase, step in (("turn_path", turn_path), ("memory_work", drain)):
            profile = cProfile.Profile(time.process_time)
            cpu, database = time.process_time(), postgres_cpu_seconds(home)
            profile.enable()
            await step()
            profile.disable()
            cpu, database = time.process_time() - cpu, postgres_cpu_seconds(home) - database
            stats = pstats.Stats(profile)
            if profile_to is not None and phase == "turn_path":
                stats.dump_stats(profile_to)
            out[phase] = {
                "calls_per_turn": round(stats.total_calls / turns),  # type: ignore[attr-defined]
                "calls_per_turn_by_package": calls_by_package(stats, turns),
                "cpu_ms_per_turn_profiled": round(cpu * 1000 / turns, 1),
                "postgres_ms_per_turn": round(database * 1000 / turns, 1),
            }
        cpu, database = time.process_time(), postgres_cpu_seconds(home)
        await answer(turns)
        await drain()
        out["unprofiled_cpu_ms_per_turn"] = {
            "process": round((time.process_time() - cpu) * 1000 / turns, 1),
            "postgres": round((postgres_cpu_seconds(home) - database) * 1000 / turns, 1),
        }
        out["load_average"] = round(os.getloadavg()[0], 2)
        return out
    finally:
        await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=160, help="measured turns (all users)")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument(
        "--profile", type=Path, default=None, help="write the turn path's cProfile stats here"
    )
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="companion-bench-"))
    port = free_port()
    os.environ.update(loopback_env(home, port))
    llm = subprocess.Popen(
        [sys.executable, "-m", "companion.bench.gateway_llm", "--port", str(port)]
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/v1/models")
        print(
            json.dumps(asyncio.run(_measure(home, args.turns, args.users, args.profile)), indent=2)
        )
    finally:
        stop([llm])
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
