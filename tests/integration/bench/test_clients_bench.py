"""The clients bench counts calls per model request and per Redis call on real servers."""

from __future__ import annotations

from tests.fakes import FakeOpenAIServer

from companion.bench.clients import model_requests, redis_calls


async def test_model_requests_are_counted_per_request(openai_server: FakeOpenAIServer) -> None:
    result = await model_requests(openai_server.base_url, requests=6, concurrency=3)
    assert openai_server.hits == 1 + 6 + 6  # a warm-up (a tenth, at least one), profiled, timed
    assert result["calls"] > 0 and result["cpu_us"] > 0
    assert result["calls_by_package"]["aiohttp"] > 0


async def test_redis_calls_are_counted_per_call(redis_url: str) -> None:
    result = await redis_calls(redis_url, calls=20)
    assert result["degraded"] is False
    assert set(result) == {"incr", "lock", "recent", "push_recent", "degraded"}
    assert all(result[kind]["calls_by_package"]["redis"] > 0 for kind in ("incr", "recent"))
