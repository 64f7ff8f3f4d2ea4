"""Reliability suite: a real ``companion serve`` under faults; prints what survived.

Scenarios (``companion bench reliability …`` runs them; each prints one JSON object):

``python -m companion.bench.reliability kill --users 20 --seconds 20``
    N users send turns; ``kill -9`` of serve mid-load; restart; wait for the queue to
    drain. Every acknowledged turn (HTTP 200) must be stored complete, with its
    episodic memory, exactly once.
``python -m companion.bench.reliability disconnect --users 20 --turns 5 [--stop]``
    Clients stream ``/api/chat/stream`` and leave at random points (before the
    first byte, after k chunks, or never). Every turn that started must be stored,
    complete (or interrupted with ``--stop``, i.e. ``TURN_ON_DISCONNECT=stop``).
``python -m companion.bench.reliability fallback --users 20 --seconds 20``
    The primary model fails 30 % (500, 429 with Retry-After, hangs past the
    timeout); a fallback model is configured. Share of turns answered.
``python -m companion.bench.reliability redis --users 20 --seconds 30``
    Serve with Redis; Redis is killed a third of the way in and restarted at two
    thirds. Answered / failed turns, every acknowledged turn stored, and how soon
    the app is back on Redis.
``python bench/reliability.py postgres --users 20 --seconds 40 --mode restart``
    PostgreSQL restarted (or killed, or an external server stopped and started)
    mid-run: answered / failed turns, recovery time, nothing acknowledged lost
    (``bench/reliability_postgres.py``).
``python bench/reliability.py schema --examples 200``
    schemathesis over the OpenAPI spec of a running ``companion serve``, many
    examples per operation: every 5xx is listed (``bench/reliability_schema.py``).

The LLM is ``companion.bench.reliability_llm`` on loopback (instant, or paced and faulty).
Each run gets a temporary ``COMPANION_HOME`` with its own embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from companion.bench.serving import free_port, loopback_env, wait_ready

BIN = Path(sys.executable).parent
FACTS = [
    ("sister", "Ines", "Porto"),
    ("brother", "Tiago", "Madrid"),
    ("friend", "Marta", "Lisbon"),
    ("cousin", "Rui", "Braga"),
    ("aunt", "Clara", "Faro"),
]


def _message(user: int, turn: int) -> str:
    relation, name, city = FACTS[(user + turn) % len(FACTS)]
    return f"Remember that my {relation} {name}{user}x{turn} lives in {city}."


class Stack:
    """The loopback LLM, ``companion serve`` and (optionally) Redis, in a temporary home."""

    def __init__(self, *, llm_args: list[str], env: dict[str, str] | None = None) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="companion-reliability-"))
        self.llm_port, self.port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            **loopback_env(self.home, self.llm_port),
            "RATE_LIMIT_PER_IP_PER_MINUTE": "10000000",
            "DB_POOL_MIN_SIZE": "5",
            "DB_POOL_MAX_SIZE": "20",
            "QUEUE_LEASE_SECONDS": "5",
            **(env or {}),
        }
        self.llm = subprocess.Popen(
            [sys.executable, "-m", "companion.bench.reliability_llm",
             "--port", str(self.llm_port), *llm_args],
            env=self.env,
        )  # fmt: skip
        self.serve: subprocess.Popen[bytes] | None = None
        self.redis: subprocess.Popen[bytes] | None = None
        self.key = ""

    def setup(self) -> None:
        subprocess.run(
            [str(BIN / "companion"), "migrate"], env=self.env, check=True, capture_output=True
        )
        made = subprocess.run(
            [str(BIN / "companion"), "keys", "create", "--user", "bench-admin", "--admin"],
            env=self.env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        self.key = made.stdout.strip().splitlines()[-1]

    def start_redis(self) -> None:
        port = int(
            self.env.get("REDIS_URL", "redis://127.0.0.1:0/0").rsplit(":", 1)[1].split("/")[0]
        )
        if port == 0:
            port = free_port()
            self.env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def start(self) -> float:
        self.serve = subprocess.Popen(
            [str(BIN / "companion"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        return wait_ready(f"{self.base}/health")

    def kill9(self) -> None:
        assert self.serve is not None
        self.serve.send_signal(signal.SIGKILL)
        self.serve.wait()

    def close(self) -> None:
        for proc in (self.serve, self.llm, self.redis):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        subprocess.run(
            [sys.executable, "-c", "from companion.store.embedded import EmbeddedPostgres as E;"
             f"E({str(self.home)!r}).stop()"],
            env=self.env, capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.home, ignore_errors=True)

    def client(self, users: int, timeout: float = 60) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=users * 2, max_keepalive_connections=users)
        return httpx.AsyncClient(
            base_url=self.base, headers={"Authorization": f"Bearer {self.key}"},
            limits=limits, timeout=timeout,
        )  # fmt: skip


async def _audit(
    stack: Stack, acked: list[int], *, drain_timeout: float = 120, recovered: bool = False
) -> dict[str, Any]:
    """Wait for the queue to drain, then check the acknowledged turns in the database."""
    os.environ.update(
        {k: v for k, v in stack.env.items() if k in ("COMPANION_HOME", "DATABASE_URL")}
    )
    from sqlalchemy import text

    from companion.settings import load_settings
    from companion.store.database import Database

    db = Database.from_settings(load_settings(None), pool=False)
    started = time.monotonic()
    try:
        while True:
            async with db.session() as session:
                left = int(await session.scalar(text(
                    "SELECT count(*) FROM work_items WHERE status IN ('pending', 'running') "
                    "AND (:all OR run_after <= now() + interval '1 second')"
                ), {"all": recovered}) or 0)  # fmt: skip
            if left == 0 or time.monotonic() - started > drain_timeout:
                break
            await asyncio.sleep(0.5)
        drained_s = time.monotonic() - started
        async with db.session() as session:
            rows = (await session.execute(text(
                "SELECT i.id, i.status, i.reply_message_id IS NOT NULL AS replied, "
                "(SELECT count(*) FROM memories m WHERE m.user_id = i.user_id "
                " AND m.memory_type = 'episodic' "
                " AND i.user_message_id = ANY(m.source_message_ids)) "
                "AS episodic FROM interactions i WHERE i.id = ANY(:ids)"
            ), {"ids": acked})).all()  # fmt: skip
            statuses: dict[str, int] = dict((await session.execute(text(
                "SELECT status, count(*) FROM interactions GROUP BY status"))).all())  # fmt: skip
            queue: dict[str, int] = dict((await session.execute(text(
                "SELECT status, count(*) FROM work_items GROUP BY status"))).all())  # fmt: skip
            duplicates = int(await session.scalar(text(
                "SELECT count(*) FROM (SELECT user_id, source_message_ids FROM memories "
                "WHERE memory_type = 'episodic' GROUP BY 1, 2 HAVING count(*) > 1) d"
            )) or 0)  # fmt: skip
    finally:
        await db.close()
    found = {r.id: r for r in rows}
    return {
        "acknowledged": len(acked),
        "acknowledged_stored": sum(1 for i in acked if i in found and found[i].replied),
        "acknowledged_with_memory": sum(1 for i in acked if i in found and found[i].episodic == 1),
        "duplicate_episodic_memories": duplicates,
        "interactions_by_status": {str(k): int(v) for k, v in statuses.items()},
        "queue_by_status": {str(k): int(v) for k, v in queue.items()},
        "queue_drain_s": round(drained_s, 1),
    }


class Sent(NamedTuple):
    """One turn of the load: when it was sent and answered, its status, its interaction.

    ``status`` 0 means no answer came (the connection failed: ``error`` names how);
    ``interaction`` is 0 unless the turn was acknowledged (HTTP 200).
    """

    sent: float
    done: float
    status: int
    interaction: int
    error: str = ""


async def _turns(client: httpx.AsyncClient, user: int, deadline: float, log: list[Sent]) -> None:
    """Turns until ``deadline``, each appended to ``log`` as it ends."""
    turn = 0
    while time.monotonic() < deadline:
        turn += 1
        sent = time.monotonic()
        try:
            response = await client.post(
                "/api/chat/message",
                json={"user_id": f"rel-{user:03d}", "message": _message(user, turn)},
            )
        except httpx.HTTPError as exc:
            log.append(Sent(sent, time.monotonic(), 0, 0, type(exc).__name__))
            await asyncio.sleep(0.2)
            continue
        ok = response.status_code == 200
        interaction = int(response.json()["interaction_id"]) if ok else 0
        log.append(Sent(sent, time.monotonic(), response.status_code, interaction))
        if not ok:
            await asyncio.sleep(0.1)


def _acked(log: list[Sent]) -> list[int]:
    """The interaction ids of the acknowledged turns."""
    return [entry.interaction for entry in log if entry.status == 200]


def _counts(log: list[Sent]) -> dict[str, int]:
    """Turns by outcome: answered, connection errors, and each other HTTP status."""
    counts = {"answered": 0, "connection_errors": 0}
    for entry in log:
        if entry.status == 200:
            counts["answered"] += 1
        elif entry.status == 0:
            counts["connection_errors"] += 1
        else:
            counts[f"http_{entry.status}"] = counts.get(f"http_{entry.status}", 0) + 1
    return counts


async def _warm(stack: Stack, users: int) -> None:
    """One turn per user before measuring (models, embedder and pools are cold)."""
    async with stack.client(users, timeout=300) as client:
        await asyncio.gather(
            *(client.post("/api/chat/message", json={"user_id": f"rel-{u:03d}", "message": "Hi!"})
              for u in range(users))
        )  # fmt: skip


async def kill(users: int, seconds: float) -> dict[str, Any]:
    stack = Stack(llm_args=[], env={"LLM_TIMEOUT_SECONDS": "2"})
    try:
        stack.setup()
        stack.start()
        await _warm(stack, users)
        log: list[Sent] = []
        async with stack.client(users) as client:
            deadline = time.monotonic() + seconds / 2
            load = asyncio.gather(*(_turns(client, u, deadline, log) for u in range(users)))
            await asyncio.sleep(seconds / 2 - 0.5)
            stack.kill9()  # while turns are in flight
            killed_at = len(_acked(log))
            await load
            restart_s = await asyncio.to_thread(stack.start)
            deadline = time.monotonic() + seconds / 2
            await asyncio.gather(*(_turns(client, u, deadline, log) for u in range(users)))
        # Turns cut off by the kill are recovered once their lock could have expired
        # (3 x LLM_TIMEOUT_SECONDS + 30 s): wait for those too.
        audit = await _audit(stack, _acked(log), recovered=True)
        return {"scenario": "kill -9 under load", "users": users, "seconds": seconds,
                "acknowledged_before_kill": killed_at, "restart_s": round(restart_s, 1),
                **_counts(log), **audit}  # fmt: skip
    finally:
        stack.close()


async def _stream_and_leave(
    client: httpx.AsyncClient, user: int, turn: int, sent: dict[str, list[str]]
) -> None:
    """One streamed turn whose client leaves at a random point (or reads it all)."""
    text = _message(user, turn)
    leave_after = random.choice([-1, 0, 1, 2, 3, None])  # -1: before the first byte
    try:
        async with asyncio.timeout(0.05 if leave_after == -1 else 60):
            async with client.stream(
                "POST", "/api/chat/stream", json={"user_id": f"rel-{user:03d}", "message": text}
            ) as response:
                if response.status_code != 200:
                    sent[f"http_{response.status_code}"].append(text)
                    return
                chunks = 0
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        chunks += 1
                        if leave_after is not None and chunks > leave_after:
                            sent["left_mid_stream"].append(text)
                            return
                sent["read_to_end"].append(text)
    except TimeoutError:
        sent["left_before_first_byte"].append(text)


async def _statuses(db: Any, texts: list[str]) -> dict[str, str]:
    from sqlalchemy import text as sql

    async with db.session() as session:
        rows = (await session.execute(sql(
            "SELECT user_message, status FROM interactions WHERE user_message = ANY(:t)"
        ), {"t": texts})).all()  # fmt: skip
    return {str(r.user_message): str(r.status) for r in rows}


async def disconnect(users: int, turns: int, stop: bool) -> dict[str, Any]:
    env = {"TURN_ON_DISCONNECT": "stop" if stop else "finish"}
    stack = Stack(llm_args=["--chunk-delay", "0.05", "--chunks", "8"], env=env)
    try:
        stack.setup()
        stack.start()
        await _warm(stack, users)
        os.environ["COMPANION_HOME"] = stack.env["COMPANION_HOME"]
        from companion.settings import load_settings
        from companion.store.database import Database

        db = Database.from_settings(load_settings(None), pool=False)
        sent: dict[str, list[str]] = defaultdict(list)

        async def user_loop(user: int) -> None:
            for turn in range(turns):
                await _stream_and_leave(client, user, turn, sent)
                for _ in range(200):  # the next message once this turn is over
                    found = await _statuses(db, [_message(user, turn)])
                    if found and "started" not in found.values():
                        break
                    await asyncio.sleep(0.1)

        async with stack.client(users) as client:
            await asyncio.gather(*(user_loop(u) for u in range(users)))
        await asyncio.sleep(2)
        result: dict[str, Any] = {
            "scenario": "clients drop streams", "on_disconnect": env["TURN_ON_DISCONNECT"],
        }  # fmt: skip
        for group, texts in sorted(sent.items()):
            found = await _statuses(db, texts)
            by_status: dict[str, int] = defaultdict(int)
            for status in found.values():
                by_status[status] += 1
            result[group] = {"sent": len(texts), "stored": len(found), **by_status}
        await db.close()
        return result
    finally:
        stack.close()


async def fallback(users: int, seconds: float) -> dict[str, Any]:
    env = {"CHAT_PROVIDERS": "openai:primary,openai:fallback", "LLM_TIMEOUT_SECONDS": "2",
           "LLM_BACKOFF_SECONDS": "0.2"}  # fmt: skip
    stack = Stack(llm_args=["--fail-rate", "0.3", "--hang", "10"], env=env)
    try:
        stack.setup()
        stack.start()
        await _warm(stack, users)
        log: list[Sent] = []
        async with stack.client(users) as client:
            deadline = time.monotonic() + seconds
            await asyncio.gather(*(_turns(client, u, deadline, log) for u in range(users)))
            llm = (await client.get(f"http://127.0.0.1:{stack.llm_port}/stats")).json()
        counts = _counts(log)
        total = len(log)
        return {"scenario": "primary fails 30 %, fallback configured", "users": users,
                "turns": total, "answered_pct": round(100 * counts["answered"] / max(1, total), 2),
                **counts, "llm": llm}  # fmt: skip
    finally:
        stack.close()


async def _back_on_redis(url: str, deadline: float) -> float | None:
    """Seconds from the restart until the app writes to the new (empty) Redis again."""
    from redis.asyncio import Redis

    started = time.monotonic()
    client = Redis.from_url(url)
    try:
        while time.monotonic() < deadline:
            try:
                if await client.dbsize() > 0:
                    return round(time.monotonic() - started, 2)
            except Exception:  # still starting
                pass
            await asyncio.sleep(0.05)
        return None
    finally:
        await client.aclose()


async def redis(users: int, seconds: float) -> dict[str, Any]:
    stack = Stack(llm_args=[])
    try:
        stack.start_redis()
        stack.setup()
        stack.start()
        await _warm(stack, users)
        log: list[Sent] = []
        async with stack.client(users) as client:
            deadline = time.monotonic() + seconds
            load = asyncio.gather(*(_turns(client, u, deadline, log) for u in range(users)))
            await asyncio.sleep(seconds / 3)
            before = len(_acked(log))
            assert stack.redis is not None
            killed_at = time.monotonic()
            stack.redis.send_signal(signal.SIGKILL)
            stack.redis.wait()
            await asyncio.sleep(seconds / 3)
            during = len(_acked(log)) - before
            stack.start_redis()
            back_on_redis_s = await _back_on_redis(stack.env["REDIS_URL"], deadline)
            await load
        audit = await _audit(stack, _acked(log))
        answered_at = [(e.sent, e.done) for e in log if e.status == 200]
        # Recovery: from the kill to the end of the first turn sent after it and answered
        # (a turn's latency when nothing waits for Redis).
        after_kill = [done for sent, done in answered_at if sent >= killed_at]
        latencies = sorted(done - sent for sent, done in answered_at)
        return {"scenario": "redis killed at 1/3, restarted at 2/3", "users": users,
                "answered_while_redis_down": during,
                "first_turn_after_kill_s": (
                    round(min(after_kill) - killed_at, 2) if after_kill else None),
                "turn_p50_s": (
                    round(latencies[len(latencies) // 2], 2) if latencies else None),
                "back_on_redis_s": back_on_redis_s,
                **_counts(log), **audit}  # fmt: skip
    finally:
        stack.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "scenario", choices=["kill", "disconnect", "fallback", "redis", "postgres", "schema"]
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--stop", action="store_true", help="TURN_ON_DISCONNECT=stop")
    parser.add_argument("--mode", choices=["restart", "kill", "external"], default="restart")
    parser.add_argument("--down", type=float, default=5, help="postgres external: seconds down")
    parser.add_argument("--examples", type=int, default=50, help="schema: examples per operation")
    parser.add_argument("--seed", type=int, default=21, help="schema: the random seed")
    args = parser.parse_args()
    if args.scenario == "kill":
        result = asyncio.run(kill(args.users, args.seconds))
    elif args.scenario == "disconnect":
        result = asyncio.run(disconnect(args.users, args.turns, args.stop))
    elif args.scenario == "fallback":
        result = asyncio.run(fallback(args.users, args.seconds))
    elif args.scenario == "redis":
        result = asyncio.run(redis(args.users, args.seconds))
    elif args.scenario == "postgres":
        from companion.bench.reliability_postgres import postgres

        result = asyncio.run(postgres(args.users, args.seconds, args.mode, args.down))
    else:
        from companion.bench.reliability_schema import schema

        result = schema(args.examples, args.seed)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
