"""Where a server's event loop stalls: a lag sampler and the garbage collector's pauses.

Turns share one event loop with the post-turn memory work and everything else the
process does; a turn waits whenever the loop is busy elsewhere. The watch keeps
running totals that a turn reads at its start and end (``Reading``), so each turn can
say how much of its time the loop was late and how much the collector took:

- **lag**: a timer callback fires every ``interval`` seconds; each firing later than
  asked adds its lateness (another callback ran long, many were ready at once, the
  process had no core). It under-counts stalls much shorter than the interval.
- **gc**: ``gc.callbacks`` times every collection (they stop the whole process), and
  counts the full ones (generation 2), whose cost grows with the whole heap.

One watch per process (``process_watch``); ``companion serve`` starts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["LoopWatch", "Reading", "process_watch"]


@dataclass(frozen=True)
class Reading:
    """Totals since the watch started, in milliseconds (subtract two for a span)."""

    lag_ms: float = 0.0
    gc_ms: float = 0.0
    full_collections: int = 0

    def since(self, earlier: Reading) -> Reading:
        """What happened between ``earlier`` and this reading."""
        return Reading(
            self.lag_ms - earlier.lag_ms,
            self.gc_ms - earlier.gc_ms,
            self.full_collections - earlier.full_collections,
        )


class LoopWatch:
    """The lag sampler (a timer on the running loop) and the collection timer.

    The sampler is a bare ``call_later`` callback that schedules its next firing, not a
    task sleeping in a loop: at 200 wake-ups a second, a task's step, its sleep's
    future and that future's callback were ~3 % of a busy gateway's CPU.
    """

    def __init__(self, *, interval: float = 0.005) -> None:
        self.interval = interval
        self._lag = 0.0
        self._gc = 0.0
        self._full = 0
        self._gc_started = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0

    def reading(self) -> Reading:
        """The totals so far (all zero while the watch is not running)."""
        return Reading(self._lag * 1000, self._gc * 1000, self._full)

    @property
    def running(self) -> bool:
        """Whether the sampler runs."""
        return self._timer is not None

    def start(self) -> None:
        """Start sampling on the running loop and timing collections (idempotent)."""
        if self._timer is not None:
            return
        self._schedule(asyncio.get_running_loop())
        gc.callbacks.append(self._on_gc)

    async def stop(self) -> None:
        """Stop sampling and timing; the totals stay readable."""
        if self._timer is None:
            return
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)
        self._timer.cancel()
        self._timer = None

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        # perf_counter, not loop.time(): uvloop's clock is cached per loop iteration in
        # whole milliseconds, too coarse for the lateness of one wake-up.
        self._due = time.perf_counter() + self.interval
        self._timer = loop.call_later(self.interval, self._sample, loop)

    def _sample(self, loop: asyncio.AbstractEventLoop) -> None:
        late = time.perf_counter() - self._due
        if late > 0:
            self._lag += late
        if self._timer is not None:  # not stopped meanwhile
            self._schedule(loop)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        self._gc += time.perf_counter() - self._gc_started
        if info.get("generation") == 2:
            self._full += 1


_WATCH = LoopWatch()


def process_watch() -> LoopWatch:
    """This process's watch (started by ``companion serve``; idle elsewhere)."""
    return _WATCH
