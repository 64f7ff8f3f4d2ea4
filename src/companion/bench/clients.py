"""Python calls and CPU per model request and per Redis call, the two clients of a turn.

The model: ``--requests`` streamed chat completions through ``OpenAICompatProvider``,
``--concurrency`` at a time, against the gateway bench's instant loopback server
(``companion.bench.gateway_llm``, started here), a ~2.4 kB prompt as a turn sends.
Redis (with ``--redis-url``, else ``REDIS_URL``; skipped without either): the store's
calls a turn makes (``incr`` for a rate limit, the turn lock taken and released, the
short-term buffer read and appended), each ``--redis-calls`` times. For each: Python
calls per request or call (cProfile; independent of the machine's load), the same by
package, and this process's CPU per request or call without the profiler.

Run: ``python -m companion.bench.clients --requests 400 --concurrency 8``. Prints JSON.
Against an older tree, put its ``src`` on ``PYTHONPATH`` with this file copied in.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from companion.bench.gateway import stop
from companion.bench.serving import free_port, wait_ready
from companion.bench.turn_cpu import calls_by_package


async def _per_call(run: Callable[[int], Awaitable[None]], count: int) -> dict[str, Any]:
    """Calls and CPU per unit of ``run(count)`` (after a warm-up of a tenth of it)."""
    await run(max(1, count // 10))
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    await run(count)
    profile.disable()
    stats = pstats.Stats(profile)
    started = time.process_time()
    await run(count)
    return {
        "calls": round(stats.total_calls / count),  # type: ignore[attr-defined]
        "calls_by_package": calls_by_package(stats, count, top=8),
        "cpu_us": round((time.process_time() - started) * 1e6 / count),
    }


async def model_requests(base_url: str, requests: int, concurrency: int) -> dict[str, Any]:
    """Streamed chat completions through the hosted provider, ``concurrency`` at once."""
    from companion.llm.base import ChatMessage, ChatRequest
    from companion.llm.providers.openai_compat import OpenAICompatProvider

    provider = OpenAICompatProvider("bench", base_url=base_url, api_key="k", model="m")
    persona = "You are a warm, curious companion who remembers what matters. " * 40
    request = ChatRequest(
        messages=[ChatMessage("system", persona), ChatMessage("user", "How was your day?")],
        max_tokens=64,
    )

    async def one() -> None:
        async for chunk in provider.stream(request):
            if chunk.finish_reason:
                break

    async def run(count: int) -> None:
        async def lane(n: int) -> None:
            for _ in range(n):
                await one()

        share, extra = divmod(count, concurrency)
        await asyncio.gather(*(lane(share + (i < extra)) for i in range(concurrency)))

    try:
        return await _per_call(run, requests)
    finally:
        await provider.aclose()


async def redis_calls(url: str, calls: int) -> dict[str, Any]:
    """The store's calls of a turn, one kind at a time, on a throwaway key prefix."""
    from companion.store.kv import RedisStore

    store = RedisStore(url, prefix=f"bench-clients-{os.getpid()}:")

    async def lock() -> None:
        async with store.lock("user", timeout=5, wait=1):
            pass

    kinds: dict[str, Callable[[], Awaitable[object]]] = {
        "incr": lambda: store.incr("rate", ttl=61),
        "lock": lock,
        "recent": lambda: store.recent("buffer"),
        "push_recent": lambda: store.push_recent("buffer", "a", "b", keep=20, ttl=60),
    }
    out: dict[str, Any] = {}
    try:
        for name, call in kinds.items():

            async def run(count: int, call: Callable[[], Awaitable[object]] = call) -> None:
                for _ in range(count):
                    await call()

            out[name] = await _per_call(run, calls)
        out["degraded"] = store.degraded
        return out
    finally:
        await store.delete_pattern("*")
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--redis-calls", type=int, default=2000)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    args = parser.parse_args()
    port = free_port()
    llm = subprocess.Popen(
        [sys.executable, "-m", "companion.bench.gateway_llm", "--port", str(port)]
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/v1/models")
        base = f"http://127.0.0.1:{port}/v1"
        result: dict[str, Any] = {
            "model_request": asyncio.run(model_requests(base, args.requests, args.concurrency)),
            "concurrency": args.concurrency,
        }
    finally:
        stop([llm])
    if args.redis_url:
        result["redis_call"] = asyncio.run(redis_calls(args.redis_url, args.redis_calls))
    result["load_average"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
