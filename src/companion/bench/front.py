"""Python calls and CPU per request in the HTTP front, with a turn that costs nothing.

The app of ``companion serve`` (every middleware, the router, the dependencies: API-key
authentication, the per-IP rate limit; request validation, the response's encoding)
in front of a turn pipeline that answers at once: what the gateway spends on a turn
besides the turn itself. No server, database or model: requests go straight to the
ASGI app in this process (uvicorn's own share, its HTTP parsing and the socket, is not
in these figures; ``companion bench gateway`` measures the whole). The API key is
already in the process's key cache and the rate-limit counter is the in-process store,
as after a gateway's first request with Redis unset.

For ``POST /api/chat/message`` and ``POST /api/chat/stream`` (a reply in
``--deltas`` pieces): Python calls per request counted by cProfile (they do not depend
on how busy the machine is), the same by package, the functions with the most own
time under the profiler, and this process's CPU per request without the profiler.

Run: ``python -m companion.bench.front --requests 2000``. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from companion.bench.gateway import MESSAGES
from companion.bench.turn_cpu import calls_by_package
from companion.conversation.pipeline import ConversationService
from companion.conversation.types import TurnEvent, TurnRequest, TurnResult

_KEY = "ck_bench-front-key"


class _Instant(ConversationService):
    """A turn pipeline that answers every message at once with the same result."""

    def __init__(self, deltas: int) -> None:  # no storage, models or queue
        self._deltas = deltas
        self._result = TurnResult(
            reply="That sounds lovely, tell me more about it!",
            conversation_id=uuid.uuid4(),
            interaction_id=1,
            emotion="joy",
            pad_after={"pleasure": 0.41, "arousal": 0.12, "dominance": 0.05},
            memories_used=["The user walks by the river in the mornings."],
            processing_time_ms=3,
            model="instant",
            provider="loopback",
            model_latency_ms=0.8,
        )

    async def stream(self, request: TurnRequest) -> AsyncIterator[TurnEvent]:
        words = self._result.reply.split(" ")
        step = max(1, len(words) // max(1, self._deltas))
        for start in range(0, len(words), step):
            yield TurnEvent("delta", text=" ".join(words[start : start + step]) + " ")
        yield TurnEvent("done", result=self._result)


def _app(deltas: int) -> Any:
    from companion.api.app import create_app
    from companion.api.key_cache import ApiKeyCache
    from companion.runtime import Runtime
    from companion.settings import get_settings
    from companion.store.kv import MemoryStore

    settings = get_settings()
    runtime = Runtime(settings=settings, db=None, kv=MemoryStore())  # type: ignore[arg-type]
    runtime.conversation = _Instant(deltas)
    cache = runtime.extras["api_key_cache"] = ApiKeyCache(ttl=3600)
    cache.put(_KEY, key_id=1, user_id="bench-admin", is_admin=True, expires_at=None)
    return create_app(settings, runtime=runtime, bots=False)


async def _request(app: Any, path: str, body: bytes) -> tuple[int, bytes]:
    """One request through the ASGI app; the status and the whole body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},  # as uvicorn's httptools
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"python-httpx/0.28.1"),
            (b"accept", b"*/*"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {_KEY}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _bodies(count: int) -> list[bytes]:
    return [
        json.dumps(
            {"user_id": f"bench-{i % 8:03d}", "message": MESSAGES[i % len(MESSAGES)]}
        ).encode()
        for i in range(count)
    ]


async def _run(app: Any, path: str, bodies: list[bytes]) -> None:
    for body in bodies:
        status, content = await _request(app, path, body)
        if status != 200:
            raise SystemExit(f"{path} answered {status}: {content[:300]!r}")


def _top(stats: pstats.Stats, requests: int, count: int = 12) -> list[str]:
    """The functions with the most own time, as ``file:line(name) µs/request``."""
    rows = sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda item: item[1][2],
        reverse=True,
    )[:count]
    out = []
    for (filename, line, name), row in rows:
        where = f"{os.path.basename(filename)}:{line}({name})"
        out.append(f"{where} {row[2] * 1e6 / requests:.1f} µs, {row[1] / requests:.1f} calls")
    return out


async def _measure(app: Any, path: str, requests: int) -> dict[str, Any]:
    bodies = _bodies(requests)
    await _run(app, path, bodies[:200])  # warm-up: imports, caches, first-time paths
    profile = cProfile.Profile()
    profile.enable()
    await _run(app, path, bodies)
    profile.disable()
    stats = pstats.Stats(profile)
    calls = sum(row[1] for row in stats.stats.values())  # type: ignore[attr-defined]
    cpu = []
    for _ in range(3):
        started = time.process_time()
        await _run(app, path, bodies)
        cpu.append((time.process_time() - started) * 1e6 / requests)
    return {
        "calls_per_request": round(calls / requests),
        "calls_by_package": calls_by_package(stats, requests),
        "own_time_top_profiled": _top(stats, requests),
        "cpu_us_per_request": [round(c) for c in cpu],
    }


async def _main(requests: int, deltas: int) -> dict[str, Any]:
    app = _app(deltas)
    return {
        "requests": requests,
        "message": await _measure(app, "/api/chat/message", requests),
        "stream": {"deltas": deltas, **await _measure(app, "/api/chat/stream", requests)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--deltas", type=int, default=8, help="pieces of a streamed reply")
    args = parser.parse_args()
    os.environ.setdefault("RATE_LIMIT_PER_IP_PER_MINUTE", "1000000000")
    print(json.dumps(asyncio.run(_main(args.requests, args.deltas)), indent=2))


if __name__ == "__main__":
    main()
