"""The in-process key-value store: expiry, counters, capped lists, locks."""

from __future__ import annotations

import asyncio

import pytest

from companion.errors import Busy
from companion.store.kv import MemoryStore


async def test_set_get_expire() -> None:
    store = MemoryStore()
    await store.set("a", "1", ttl=0.05)
    assert await store.get("a") == b"1"
    await asyncio.sleep(0.08)
    assert await store.get("a") is None


async def test_many_keys_expire_like_single_ones() -> None:
    store = MemoryStore()
    await store.set_many({"a": b"1", "b": b"2"}, ttl=0.05)
    assert await store.get_many(["a", "zz", "b"]) == [b"1", None, b"2"]
    await asyncio.sleep(0.08)
    assert await store.get_many(["a", "b"]) == [None, None]


async def test_incr_keeps_first_expiry() -> None:
    store = MemoryStore()
    assert await store.incr("n", ttl=60) == 1
    assert await store.incr("n", ttl=0.01) == 2  # a later ttl must not shorten the window
    await asyncio.sleep(0.05)
    assert await store.get("n") == b"2"  # as Redis returns a counter

    assert await store.incr("w", ttl=0.5) == 1
    assert await store.incr("w", ttl=60) == 2  # nor lengthen it
    await asyncio.sleep(0.7)
    assert await store.get("w") is None


async def test_push_recent_keeps_newest() -> None:
    store = MemoryStore()
    for i in range(5):
        await store.push_recent("l", str(i), keep=3, ttl=60)
    assert await store.recent("l") == ["2", "3", "4"]
    await store.push_recent("l", "5", "6", keep=3, ttl=60)  # several at once, in order
    assert await store.recent("l") == ["4", "5", "6"]


async def test_push_recent_drops_the_oldest_in_blocks() -> None:
    store = MemoryStore()
    heads = []
    for i in range(12):
        await store.push_recent("l", str(i), keep=6, ttl=60, drop=4)
        items = await store.recent("l")
        assert len(items) <= 6 and items[-1] == str(i)
        heads.append(items[0])
    # The head moves only when the list overflows, four items at a time.
    assert heads == ["0"] * 6 + ["4"] * 4 + ["8"] * 2


async def test_delete_pattern() -> None:
    store = MemoryStore()
    await store.set("user:a:x", "1")
    await store.set("user:b:x", "1")
    assert await store.delete_pattern("user:a:*") == 1
    assert await store.get("user:b:x") == b"1"


async def test_lock_is_exclusive() -> None:
    store = MemoryStore()
    async with store.lock("u", timeout=5, wait=0):
        with pytest.raises(Busy):
            async with store.lock("u", timeout=5, wait=0):
                pass
    async with store.lock("u", timeout=5, wait=0):
        pass


async def test_lru_bound() -> None:
    store = MemoryStore(max_keys=2)
    for key in "abc":
        await store.set(key, key)
    assert await store.get("a") is None
    assert await store.get("c") == b"c"


async def test_cache_churn_never_evicts_conversation_buffers_or_counters() -> None:
    store = MemoryStore(max_keys=3, max_lists=2)
    await store.push_recent("user:a:st:1", "hello", keep=10, ttl=60)
    assert await store.incr("rate:a", ttl=60) == 1
    for index in range(100):  # embedding and importance caches churning
        await store.set(f"emb:{index}", "v")
    assert await store.recent("user:a:st:1") == ["hello"]
    assert await store.incr("rate:a", ttl=60) == 2
    assert await store.get("emb:0") is None and await store.get("emb:99") == b"v"
    # Buffers are bounded among themselves (the oldest goes; reads fall back to the DB).
    await store.push_recent("user:b:st:2", "x", keep=10, ttl=60)
    await store.push_recent("user:c:st:3", "y", keep=10, ttl=60)
    assert await store.recent("user:a:st:1") == []
    assert await store.delete_pattern("user:*") == 2
