"""The event loop's lag sampler and the collector's timer (ops.loop_watch), and the
startup heap frozen (ops.collector)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator

import pytest

from companion.ops.collector import freeze_startup_heap
from companion.ops.loop_watch import LoopWatch, Reading


async def test_a_blocked_loop_and_a_collection_show_in_the_readings() -> None:
    watch = LoopWatch(interval=0.002)
    assert watch.reading() == Reading()  # not started: nothing counted
    watch.start()
    try:
        await asyncio.sleep(0.01)  # the sampler is asleep on the loop
        before = watch.reading()
        # A callback holding the loop for 50 ms; the sampler wakes after it, late.
        asyncio.get_running_loop().call_soon(time.sleep, 0.05)
        await asyncio.sleep(0.01)
        gc.collect()
        spent = watch.reading().since(before)
    finally:
        await watch.stop()
    # The sampler's wake-up came at least the blocked time minus one interval late.
    assert spent.lag_ms >= 40
    assert spent.gc_ms > 0 and spent.full_collections >= 1
    after = watch.reading()
    gc.collect()  # stopped: collections are no longer timed
    asyncio.get_running_loop().call_soon(time.sleep, 0.03)
    await asyncio.sleep(0.01)  # nor is the loop's lag
    assert watch.reading() == after and not watch.running


@pytest.fixture
def collector() -> Iterator[None]:
    """Puts the collector back as the test found it."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_freezing_moves_the_heap_out_of_collections(collector: None) -> None:
    kept = [object() for _ in range(1000)]
    frozen = freeze_startup_heap(young=5000)
    assert frozen >= len(kept) and gc.get_freeze_count() == frozen
    assert gc.get_threshold()[0] == 5000
