"""The Redis store against a real redis-server, and its fallback when Redis is gone."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest

from companion.errors import Busy
from companion.store.kv import RedisStore


@pytest.fixture
async def store(redis_url: str):
    kv = RedisStore(redis_url, prefix=f"t{uuid.uuid4().hex[:6]}:")
    yield kv
    await kv.delete_pattern("*")
    await kv.close()


async def test_roundtrip_and_counter(store: RedisStore) -> None:
    await store.set("k", "v", ttl=30)
    assert await store.get("k") == b"v"
    assert [await store.incr("c", ttl=30) for _ in range(3)] == [1, 2, 3]
    assert not store.degraded


async def test_a_counter_keeps_the_expiry_it_was_made_with(
    store: RedisStore, redis_url: str
) -> None:
    import redis.asyncio as redis

    assert await store.incr("win", ttl=60) == 1
    assert await store.incr("win", ttl=5) == 2  # a later ttl neither shortens the window
    await store.set("bare", "7")  # a counter that somehow has no expiry gets one
    assert await store.incr("bare", ttl=30) == 8
    client = redis.from_url(redis_url)
    try:
        window = await client.pttl(store._k("win"))
        bare = await client.pttl(store._k("bare"))
    finally:
        await client.aclose()
    assert 55_000 < window <= 60_000
    assert 25_000 < bare <= 30_000


async def test_many_keys_in_one_round_trip(store: RedisStore) -> None:
    await store.set_many({"a": b"1", "b": b"2"}, ttl=30)
    assert await store.get_many(["a", "missing", "b"]) == [b"1", None, b"2"]
    assert await store.get("b") == b"2"
    assert await store.get_many([]) == []


async def test_one_item_is_written_like_many(store: RedisStore, redis_url: str) -> None:
    """A single item (a new query's vector) goes as one SET: the same value and expiry
    as through the pipeline, and no expiry when none is asked."""
    import redis.asyncio as redis

    await store.set_many({"one": b"\x00\x01vector"}, ttl=30)
    await store.set_many({"two": b"a", "three": b"b"}, ttl=30)
    await store.set_many({"kept": b"k"})
    assert await store.get_many(["one", "two", "kept"]) == [b"\x00\x01vector", b"a", b"k"]
    client = redis.from_url(redis_url)
    try:
        one, two = await client.pttl(store._k("one")), await client.pttl(store._k("two"))
        kept = await client.pttl(store._k("kept"))
    finally:
        await client.aclose()
    assert 25_000 < one <= 30_000 and 25_000 < two <= 30_000
    assert kept == -1  # no expiry


async def test_recent_is_capped(store: RedisStore) -> None:
    for i in range(12):
        await store.push_recent("buf", f"m{i}", keep=10, ttl=30)
    assert await store.recent("buf") == [f"m{i}" for i in range(2, 12)]
    await store.push_recent("buf", "user line", "reply line", keep=10, ttl=30)  # one trip
    assert await store.recent("buf") == [
        *(f"m{i}" for i in range(4, 12)),
        "user line",
        "reply line",
    ]


async def test_recent_drops_in_blocks_like_the_memory_store(store: RedisStore) -> None:
    from companion.store.kv import MemoryStore

    local = MemoryStore()
    for i in range(23):
        await store.push_recent("blk", f"m{i}", keep=10, ttl=30, drop=4)
        await local.push_recent("blk", f"m{i}", keep=10, ttl=30, drop=4)
        assert await store.recent("blk") == await local.recent("blk")
    assert await store.recent("blk") == [f"m{i}" for i in range(16, 23)]
    assert not store.degraded


async def test_lock_excludes_other_holders(store: RedisStore, redis_url: str) -> None:
    other = RedisStore(redis_url, prefix=store._prefix)  # a second process, in effect
    try:
        async with store.lock("user:1", timeout=5, wait=0):
            with pytest.raises(Busy):
                async with other.lock("user:1", timeout=5, wait=0.05):
                    pass
        async with other.lock("user:1", timeout=5, wait=0):
            pass
    finally:
        await other.close()


async def test_the_last_append_under_a_lock_gives_it_back(
    store: RedisStore, redis_url: str
) -> None:
    """``push_recent(..., release=hold)``: the append and the release in one round trip;
    the lock is free at once (another holder takes it inside the block), and the
    block's exit releases nothing more, so it cannot free the other holder's lock."""
    other = RedisStore(redis_url, prefix=store._prefix)
    try:
        async with store.lock("user:2", timeout=5, wait=0) as hold:
            await store.push_recent("buf2", "a", "b", "c", keep=2, ttl=30, release=hold)
            assert hold.released
            assert await store.recent("buf2") == ["b", "c"]  # appended and capped as ever
            async with other.lock("user:2", timeout=5, wait=0) as theirs:
                assert not theirs.released
        async with store.lock("user:2", timeout=5, wait=0):  # the other holder released
            pass
        # A lock that expired and was taken by another holder is not freed by the append.
        async with store.lock("user:3", timeout=0.05, wait=0) as stale:
            await asyncio.sleep(0.1)
            async with other.lock("user:3", timeout=5, wait=0):
                await store.push_recent("buf3", "x", keep=5, ttl=30, release=stale)
                with pytest.raises(Busy):
                    async with store.lock("user:3", timeout=5, wait=0):
                        pass
        assert await store.recent("buf3") == ["x"]
    finally:
        await other.close()


async def test_a_lock_without_an_early_release_is_released_on_exit(store: RedisStore) -> None:
    async with store.lock("user:4", timeout=5, wait=0) as hold:
        await store.push_recent("buf4", "a", keep=5, ttl=30)  # no release asked
        assert not hold.released
        with pytest.raises(Busy):
            async with store.lock("user:4", timeout=5, wait=0):
                pass
    async with store.lock("user:4", timeout=5, wait=0):
        pass


async def test_falls_back_when_redis_is_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    kv = RedisStore(f"redis://127.0.0.1:{port}/0")
    try:
        await kv.set("k", "v")
        assert kv.degraded
        assert await kv.get("k") == b"v"
        assert await kv.incr("c", ttl=10) == 1
        await kv.set_many({"m": b"x"})
        assert await kv.get_many(["m", "k"]) == [b"x", b"v"]
        async with kv.lock("u", timeout=1, wait=0):
            pass
    finally:
        await kv.close()


async def test_falls_back_when_redis_accepts_but_never_answers() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the commands, answers none, until the client leaves
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    kv = RedisStore(f"redis://127.0.0.1:{port}/0")
    try:
        # The guard only keeps a broken timeout from hanging the suite.
        await asyncio.wait_for(kv.set("k", "v"), timeout=30)
        assert kv.degraded
        assert await kv.get("k") == b"v"
        async with kv.lock("u", timeout=1, wait=0):
            pass
    finally:
        await kv.close()
        server.close()
        await server.wait_closed()
