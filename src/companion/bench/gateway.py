"""Gateway benchmark: N concurrent simulated users against a real ``companion serve``.

Starts an instant local LLM server and ``companion serve`` (its own COMPANION_HOME,
embedded PostgreSQL), creates an admin key with ``companion keys create``, then lets
``--users`` clients each send turns to ``/api/chat/message`` (acting for their own
user id) for ``--seconds``. Reports turns/s, client latency, the server's turn overhead
excluding generation (``Server-Timing: overhead``) p50/p95/p99, and errors.
``--workers N`` runs ``companion serve --workers N``; ``--separate-worker`` runs the
post-turn memory work in one ``companion worker`` process (``QUEUE_WORKERS_IN_SERVE=false``
for the server), its CPU reported apart; ``--profile FILE`` runs one
server process under cProfile on its CPU clock for the measured window
(``companion.bench.profiled``). At the end it reports the post-turn
work queue (``queue``: items per status; ``queued``/``running`` still waiting), so
memory work pushed past the window is visible rather than hidden, and the machine's
load average.

Run: ``companion bench gateway --users 100 --seconds 30`` (``python -m companion.bench.gateway``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from companion.bench.measure import percentile
from companion.bench.serving import free_port, loopback_env, wait_ready

BIN = Path(sys.executable).parent
MESSAGES = [
    "Hi! How was your day?",
    "I went for a long walk by the river this morning.",
    "My sister is visiting next weekend, I'm a bit nervous.",
    "What do you think I should cook for her?",
    "I love that idea, thank you!",
]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Terminate the processes, last started first; kill any that do not stop in 30 s."""
    for proc in reversed(procs):
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _timings(header: str) -> dict[str, float]:
    """The ``Server-Timing`` entries by name (``overhead``, and with an admin's key each
    step of the turn: ``TurnResult.stages``)."""
    found: dict[str, float] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition(";dur=")
        if value:
            found[name] = float(value)
    return found


def breakdown(timings: list[dict[str, float]], *, share: float = 0.05) -> dict[str, Any]:
    """The mean of each ``Server-Timing`` entry over the slowest ``share`` of turns by
    overhead, beside its mean over all turns: what the tail spends more time on."""
    ranked = sorted(timings, key=lambda t: t.get("overhead", 0.0), reverse=True)
    slowest = ranked[: max(1, round(len(ranked) * share))]

    def means(group: list[dict[str, float]]) -> dict[str, float]:
        names = dict.fromkeys(name for t in group for name in t)
        return {n: round(statistics.fmean(t.get(n, 0.0) for t in group), 1) for n in names}

    return {"turns": len(slowest), "slowest": means(slowest), "all": means(ranked)}


async def _user(
    client: aiohttp.ClientSession, index: int, deadline: float, stats: dict[str, list[Any]]
) -> None:
    user = f"bench-{index:03d}"
    turn = 0
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            async with client.post(
                "/api/chat/message",
                json={"user_id": user, "message": MESSAGES[turn % len(MESSAGES)]},
            ) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            stats["errors"].append(type(exc).__name__)
            continue
        elapsed = (time.perf_counter() - started) * 1000
        turn += 1
        if response.status != 200:
            stats["errors"].append(str(response.status))
            continue
        stats["latency"].append(elapsed)
        timings = _timings(response.headers.get("server-timing", ""))
        if "overhead" in timings:
            stats["overhead"].append(timings["overhead"])
            stats["timings"].append(timings)


async def _drive(
    base: str,
    key: str,
    users: int,
    seconds: float,
    profiled: int | None = None,
    window: Callable[[str], Awaitable[None]] | None = None,
) -> dict[str, object]:
    """Warm up for 5 s, then measure ``seconds``; ``window("start")`` and ``("end")``
    run at the measured window's edges (the CPU and counters are read there)."""
    # The load generator shares the machine with the server, so it is the cheapest
    # client at hand (aiohttp: under half of httpx's CPU per request); its CPU is
    # reported apart as ``load_generator``.
    headers = {"Authorization": f"Bearer {key}"}
    stats: dict[str, list[Any]] = {"latency": [], "overhead": [], "errors": [], "timings": []}
    async with aiohttp.ClientSession(
        base_url=base,
        headers=headers,
        connector=aiohttp.TCPConnector(limit=users),
        timeout=aiohttp.ClientTimeout(total=60),
    ) as client:
        await asyncio.gather(
            *(
                _user(
                    client,
                    i,
                    time.monotonic() + 5,
                    {"latency": [], "overhead": [], "errors": [], "timings": []},
                )
                for i in range(users)
            )
        )  # warm-up
        if profiled is not None:  # the profile covers the measured window only
            os.kill(profiled, signal.SIGUSR1)
        if window is not None:
            await window("start")
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(_user(client, i, deadline, stats) for i in range(users)))
        wall = time.monotonic() - started
        if window is not None:
            await window("end")
    turns = len(stats["latency"])
    return {
        "users": users,
        "seconds": round(wall, 1),
        "turns": turns,
        "turns_per_s": round(turns / wall, 1),
        "errors": len(stats["errors"]),
        "error_kinds": sorted(set(stats["errors"]))[:5],
        "latency_ms": {q: round(percentile(stats["latency"], p), 1) for q, p in _QS},
        "overhead_ms": {q: round(percentile(stats["overhead"], p), 1) for q, p in _QS},
        "overhead_mean_ms": round(statistics.fmean(stats["overhead"]), 1)
        if stats["overhead"]
        else None,
        "timings": stats["timings"],
    }


_QS = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))


async def _queue_counts() -> dict[str, int]:
    """Items per status in the post-turn queue (the environment names the database)."""
    from companion.settings import get_settings
    from companion.store.database import Database
    from companion.store.queue import WorkQueue

    db = Database.from_settings(get_settings(), pool=False)
    try:
        return await WorkQueue(db).counts()
    finally:
        await db.close()


def _cpu_seconds(
    server_pid: int, home: Path, worker_pid: int | None, llm_pid: int | None
) -> dict[str, float]:
    """CPU time used so far by the server (and its worker processes), by the separate
    ``companion worker`` if there is one, by PostgreSQL, and by the bench's own parts
    that share the machine: the instant model server and this load generator.

    On a shared machine turns/s depends on the neighbours; CPU per turn does not.
    """
    used = {"gateway": _tree_cpu(server_pid)}
    if worker_pid is not None:
        used["worker"] = _tree_cpu(worker_pid)
    used["postgres"] = postgres_cpu_seconds(home)
    if llm_pid is not None:
        used["instant_llm"] = _tree_cpu(llm_pid)
    used["load_generator"] = time.process_time()  # this process alone, not its children
    return used


class _Window:
    """The CPU used and, with ``pg_stats``, PostgreSQL's counters at the measured
    window's start and end (``companion.bench.pg_stats``)."""

    def __init__(
        self,
        server_pid: int,
        home: Path,
        worker_pid: int | None,
        *,
        pg_stats: bool,
        llm_pid: int | None = None,
    ) -> None:
        self.server_pid, self.home, self.worker_pid = server_pid, home, worker_pid
        self.llm_pid = llm_pid
        self.pg_stats = pg_stats
        self.cpu: dict[str, dict[str, float]] = {}
        self.roles: dict[str, dict[str, float]] = {}
        self.counters: dict[str, dict[str, Any]] = {}

    async def __call__(self, edge: str) -> None:
        self.cpu[edge] = _cpu_seconds(self.server_pid, self.home, self.worker_pid, self.llm_pid)
        if not self.pg_stats:
            return
        from companion.bench import pg_stats
        from companion.settings import get_settings
        from companion.store.database import Database

        self.roles[edge] = pg_stats.cpu_by_role(self.home)
        db = Database.from_settings(get_settings(), pool=False)
        try:
            async with db.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                if edge == "start":
                    await conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                self.counters[edge] = await pg_stats.snapshot(conn)
        finally:
            await db.close()

    def report(self, turns: int) -> dict[str, Any]:
        """CPU ms per turn by process, and (``pg_stats``) what PostgreSQL did per turn."""
        start, end = self.cpu["start"], self.cpu["end"]
        per_turn = {part: round((end[part] - start[part]) * 1000 / turns, 1) for part in end}
        # What the machine spent per turn, load generator and model stand-in included:
        # at 150 turns/s two cores have 13.3 ms.
        per_turn["all"] = round(sum(per_turn.values()), 1)
        result: dict[str, Any] = {"cpu_ms_per_turn": per_turn}
        if self.pg_stats:
            from companion.bench import pg_stats

            roles = {
                role: round((cpu - self.roles["start"].get(role, 0.0)) * 1000 / turns, 2)
                for role, cpu in self.roles["end"].items()
            }
            result["postgres_cpu_ms_per_turn_by_role"] = roles
            result["postgres_per_turn"] = pg_stats.per_turn(
                self.counters["start"], self.counters["end"], turns
            )
        return result


def _tree_cpu(pid: int) -> float:
    process = psutil.Process(pid)
    procs = [process, *process.children(recursive=True)]
    return float(sum(p.cpu_times().user + p.cpu_times().system for p in procs if p.is_running()))


def postgres_cpu_seconds(home: Path) -> float:
    """CPU time used so far by the PostgreSQL whose postmaster runs on ``home``."""
    database = 0.0
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if proc.info["name"] == "postgres" or "postgres" in " ".join(
                proc.info["cmdline"] or []
            ):
                if str(home) in " ".join(proc.cmdline()) or _under(proc, home):
                    times = proc.cpu_times()
                    database += times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return database


def _under(proc: psutil.Process, home: Path) -> bool:
    """Whether ``proc`` is a backend of the postgres whose postmaster runs on ``home``."""
    try:
        parent = proc.parent()
        return parent is not None and str(home) in " ".join(parent.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--home", type=Path, default=None, help="COMPANION_HOME (temporary)")
    parser.add_argument("--database-url", default=None, help="use this PostgreSQL instead")
    parser.add_argument("--workers", type=int, default=1, help="companion serve --workers")
    parser.add_argument(
        "--separate-worker",
        action="store_true",
        help="the memory work in one `companion worker` process, not in the server",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write the server's CPU profile of the measured window here "
        "(pstats; sampled stacks, folded, if the name ends in .folded)",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also report where the slowest 5 %% of turns by overhead spent their time, "
        "step by step (the server's Server-Timing entries), beside all turns' means",
    )
    parser.add_argument(
        "--pg-stats",
        action="store_true",
        help="also report what PostgreSQL did per turn (rows and index entries written, "
        "HOT updates, WAL, buffers, the costliest statements; companion.bench.pg_stats)",
    )
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="companion-bench-"))
    llm_port, port = free_port(), free_port()
    env = {
        **os.environ,
        **loopback_env(home, llm_port),
        "RATE_LIMIT_PER_IP_PER_MINUTE": "10000000",
        "DB_POOL_MIN_SIZE": "10",
        "DB_POOL_MAX_SIZE": "30",
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "companion.bench.gateway_llm", "--port", str(llm_port)],
            env=env,
        )
    ]
    try:
        subprocess.run(
            [str(BIN / "companion"), "migrate"], env=env, check=True, capture_output=True
        )
        created = subprocess.run(
            [str(BIN / "companion"), "keys", "create", "--user", "bench-admin", "--admin"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        key = created.stdout.strip().splitlines()[-1]
        if args.pg_stats and not args.database_url:
            from companion.bench.pg_stats import enable_statement_stats
            from companion.store.embedded import stop_server

            stop_server(home / "pgdata")  # normally stopped already: no holder is left
            enable_statement_stats(home / "pgdata")
        serve = [str(BIN / "companion"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        if args.profile is not None:  # one process, under cProfile on its CPU clock
            serve[:1] = [sys.executable, "-m", "companion.bench.profiled", str(args.profile)]
        elif args.workers > 1:
            serve += ["--workers", str(args.workers)]
        serve_env = {**env, "QUEUE_WORKERS_IN_SERVE": "false"} if args.separate_worker else env
        procs.append(subprocess.Popen(serve, env=serve_env, stdout=subprocess.DEVNULL))
        server_pid = procs[-1].pid
        base = f"http://127.0.0.1:{port}"
        worker_pid = None
        if args.separate_worker:
            procs.append(
                subprocess.Popen(
                    [str(BIN / "companion"), "worker"], env=env, stdout=subprocess.DEVNULL
                )
            )
            worker_pid = procs[-1].pid
        wait_ready(f"{base}/health")
        load_before = os.getloadavg()[0]
        profiled = server_pid if args.profile is not None else None
        os.environ.update(env)  # the window's counters and the queue's database
        window = _Window(server_pid, home, worker_pid, pg_stats=args.pg_stats, llm_pid=procs[0].pid)
        result = asyncio.run(_drive(base, key, args.users, args.seconds, profiled, window))
        timings: list[dict[str, float]] = result.pop("timings")  # type: ignore[assignment]
        if args.breakdown and timings:
            result["overhead_breakdown"] = breakdown(timings)
        turns = max(1, int(result["turns"]))  # type: ignore[call-overload]
        # The window only: the warm-up's CPU counts only through work spilling into it.
        result.update(window.report(turns))
        result["workers"] = args.workers
        result["memory_work"] = "companion worker" if args.separate_worker else "in the server"
        result["load_average"] = {
            "before": round(load_before, 2),
            "after": round(os.getloadavg()[0], 2),
        }
        result["queue"] = asyncio.run(_queue_counts())
        print(json.dumps(result, indent=2))
    finally:
        stop(procs)
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
