"""Rate limit windows and background task tracking."""

from __future__ import annotations

import asyncio

import pytest

from companion.conversation.background import BackgroundTasks
from companion.conversation.limits import Limit, RateLimiter, profile_limits
from companion.errors import RateLimited
from companion.settings import load_settings
from companion.store.kv import MemoryStore


async def test_fixed_window_limits_and_retry_after() -> None:
    limiter = RateLimiter(MemoryStore())
    limits = (Limit(3, 60, "minute"),)
    for _ in range(3):
        await limiter.hit("user:a", limits, now=120.0)
    with pytest.raises(RateLimited) as caught:
        await limiter.hit("user:a", limits, now=150.0)
    assert caught.value.retry_after == 30
    assert "3 requests per minute" in caught.value.message
    await limiter.hit("user:b", limits, now=150.0)  # per subject
    await limiter.hit("user:a", limits, now=181.0)  # next window


async def test_burst_limit_of_public_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_PROFILE", "public")
    limits = profile_limits(load_settings(None))
    assert {(lim.count, lim.window) for lim in limits} == {(5, 10), (10, 60), (100, 3600)}
    limiter = RateLimiter(MemoryStore())
    for _ in range(5):
        await limiter.hit("user:p", limits, now=1000.0)
    with pytest.raises(RateLimited, match="5 requests per 10 seconds"):
        await limiter.hit("user:p", limits, now=1001.0)


async def test_default_profile_uses_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "7")
    assert profile_limits(load_settings(None)) == (Limit(7, 60, "minute"),)


async def test_background_drain_waits_and_survives_failures() -> None:
    tasks = BackgroundTasks()
    done: list[str] = []

    async def work(name: str, fail: bool = False) -> None:
        await asyncio.sleep(0.01)
        if fail:
            raise RuntimeError("boom")
        done.append(name)

    tasks.spawn("a", work("a"))
    tasks.spawn("b", work("b", fail=True))
    tasks.spawn("c", work("c"))
    assert tasks.pending == 3
    await tasks.drain()
    assert sorted(done) == ["a", "c"] and tasks.pending == 0
