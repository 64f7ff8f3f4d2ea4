"""Tasks that outlive their caller (running turns): tracked so shutdown and tests can wait."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

__all__ = ["BackgroundTasks"]

log = logging.getLogger(__name__)


class BackgroundTasks:
    """Runs coroutines without delaying the caller; failures are logged, never raised."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, name: str, work: Awaitable[None]) -> None:
        """Start ``work`` now; it runs after the reply has been returned."""
        task = asyncio.get_running_loop().create_task(self._guard(name, work), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(name: str, work: Awaitable[None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # background work must never take the process down
            log.exception("background task %s failed", name)

    @property
    def pending(self) -> int:
        """How many tasks are still running."""
        return len(self._tasks)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every task (including ones spawned meanwhile) has finished."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            done, _ = await asyncio.wait(set(self._tasks), timeout=left)
            if deadline is not None and loop.time() >= deadline and not done:
                break

    async def cancel(self) -> None:
        """Cancel what is still running (after a drain timed out at shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
