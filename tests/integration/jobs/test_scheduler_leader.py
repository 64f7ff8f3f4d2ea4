"""Two schedulers against one database: exactly one leader, and a standby takes over."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import asyncpg

from companion.jobs import AdvisoryLock, JobRunner, Scheduler, lock_dsn


def _pair(runtime: Any) -> tuple[Scheduler, Scheduler]:
    key = random.randint(1, 2**40)  # private to this test
    return tuple(  # type: ignore[return-value]
        Scheduler(
            runtime,
            lock=AdvisoryLock(lock_dsn(runtime), key=key),
            runner=JobRunner(runtime, pause=0),
            retry_seconds=0.05,
        )
        for _ in range(2)
    )


async def _until(condition: Callable[[], bool], *, seconds: float = 15) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def test_one_leader_and_takeover_after_stop(runtime: Any) -> None:
    a, b = _pair(runtime)
    await a.start()
    await b.start()
    try:
        await _until(lambda: a.is_leader or b.is_leader)
        for _ in range(20):  # several election rounds: never two leaders
            assert a.is_leader != b.is_leader
            await asyncio.sleep(0.02)
        leader, standby = (a, b) if a.is_leader else (b, a)
        assert set(leader.next_runs()) >= {"proactive_check", "reflection", "needs"}
        assert standby.next_runs() == {}
        await leader.stop()
        await _until(lambda: standby.is_leader)
        assert not leader.is_leader
    finally:
        await a.stop()
        await b.stop()


async def test_standby_takes_over_when_the_leader_dies(runtime: Any) -> None:
    a, b = _pair(runtime)
    await a.start()
    await _until(lambda: a.is_leader)
    await b.start()
    await asyncio.sleep(0.2)
    assert not b.is_leader
    try:
        # The leader's process "dies": its election stops and its connection is killed.
        assert a._task is not None
        a._task.cancel()
        pid = await a.lock.backend_pid()
        conn = await asyncpg.connect(lock_dsn(runtime))
        try:
            await conn.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await conn.close()
        await _until(lambda: b.is_leader)
    finally:
        await b.stop()
        await a.stop()
