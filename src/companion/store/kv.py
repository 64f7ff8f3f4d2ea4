"""Key-value store for caches, counters, locks and the short-term buffer.

Redis when REDIS_URL is set; an in-process store otherwise (one process only). The
Redis store degrades by itself: when Redis stops answering, each call falls back to
the in-process store and logs once, and Redis is tried again after a short pause.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol, TypeVar

from companion.errors import Busy

__all__ = [
    "KeyValueStore",
    "LockHold",
    "MemoryStore",
    "RedisStore",
    "create_store",
    "glob_escape",
    "overflow",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


_GLOB_ESCAPES = {"*": "[*]", "?": "[?]", "[": "[[]", "\\": "[\\\\]"}


def glob_escape(text: str) -> str:
    """``text`` as a literal inside a ``delete_pattern`` glob (Redis's and fnmatch's).

    A user id such as ``a*`` must never widen ``user:{id}:*`` to other users' keys.
    """
    return "".join(_GLOB_ESCAPES.get(char, char) for char in text)


def overflow(length: int, keep: int, drop: int) -> int:
    """How many of the oldest items a capped list of ``length`` drops (``push_recent``)."""
    over = length - keep
    if over <= 0:
        return 0
    step = max(1, drop)
    return min(-(-over // step) * step, length - 1)  # the newest item always stays


#: ``push_recent`` in one atomic step: append, drop the oldest in steps of ``drop``,
#: expire; with a second key, a held lock (KEYS[2]) is released in the same round trip
#: if it still holds this holder's token (ARGV[4]; empty without a lock).
_PUSH_RECENT = """
local length = redis.call('RPUSH', KEYS[1], unpack(ARGV, 5))
local keep, drop = tonumber(ARGV[1]), tonumber(ARGV[2])
if length > keep then
  local cut = math.min(math.ceil((length - keep) / drop) * drop, length - 1)
  redis.call('LTRIM', KEYS[1], cut, -1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if KEYS[2] and redis.call('GET', KEYS[2]) == ARGV[4] then
  redis.call('DEL', KEYS[2])
end
"""


class LockHold:
    """What ``lock`` yields: the held lock, which a last write may release early.

    ``push_recent(..., release=hold)`` appends and releases in one round trip where
    the store can (Redis: one script instead of two); the lock is then free before its
    ``async with`` block ends, and the block's exit has nothing left to release. A
    store that cannot, or a write that fell back, leaves the release to the exit.
    """

    __slots__ = ("name", "released", "token")

    def __init__(self, name: str = "", token: str = "") -> None:
        self.name, self.token = name, token
        #: Whether the lock was already given back (by a write that released it).
        self.released = False


#: ``incr`` in one command: count, and give a new counter (or one without) its expiry.
_INCR = """
local count = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1], 'NX')
return count
"""


class KeyValueStore(Protocol):
    """What the engine needs from Redis; keys are namespaced by the store."""

    name: str

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes | str, *, ttl: float | None = None) -> None: ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """``get`` of each key, in one round trip."""
        ...

    async def set_many(self, items: Mapping[str, bytes], *, ttl: float | None = None) -> None:
        """``set`` of each item, in one round trip."""
        ...

    async def delete(self, *keys: str) -> int: ...

    async def delete_pattern(self, pattern: str) -> int: ...

    async def incr(self, key: str, *, ttl: float) -> int:
        """Increment a counter; a new counter expires after ``ttl`` seconds."""
        ...

    async def push_recent(
        self,
        key: str,
        *values: str,
        keep: int,
        ttl: float,
        drop: int = 1,
        release: LockHold | None = None,
    ) -> None:
        """Append to a capped list (newest last; several in one round trip) and refresh
        its expiry.

        When the list grows past ``keep`` items its oldest go ``drop`` at a time (as many
        multiples of ``drop`` as needed to fit), so with ``drop`` > 1 the list's head
        stays the same for several appends. ``release``: a held lock to give back in
        the same round trip, where the store can (see ``LockHold``).
        """
        ...

    async def recent(self, key: str) -> list[str]: ...

    def lock(
        self, key: str, *, timeout: float, wait: float
    ) -> AbstractAsyncContextManager[LockHold]:
        """Hold ``key`` exclusively; raise ``Busy`` if not acquired within ``wait`` s."""
        ...

    async def ping(self) -> float:
        """Round-trip time in milliseconds."""
        ...

    async def close(self) -> None: ...


class _Space:
    """One LRU keyspace with expiry; spaces never evict each other's keys."""

    def __init__(self, max_keys: int) -> None:
        self.data: OrderedDict[str, tuple[object, float | None]] = OrderedDict()
        self.max_keys = max_keys

    def live(self, key: str) -> object | None:
        item = self.data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            del self.data[key]
            return None
        self.data.move_to_end(key)
        return value

    def put(self, key: str, value: object, ttl: float | None) -> None:
        self.data[key] = (value, None if ttl is None else time.monotonic() + ttl)
        self.data.move_to_end(key)
        while len(self.data) > self.max_keys:
            self.data.popitem(last=False)


class MemoryStore:
    """An in-process store with expiry, for a single process or as Redis's fallback.

    Caches (``get``/``set``), counters and lists (the short-term buffers) live in
    separate LRU spaces, so churn in the embedding and importance caches never evicts
    a live conversation's buffer or a rate-limit counter. An evicted buffer is not
    lost context: short-term reads fall back to the stored messages.
    """

    name = "memory"

    def __init__(
        self, *, max_keys: int = 100_000, max_lists: int = 50_000, max_counters: int = 100_000
    ) -> None:
        self._values = _Space(max_keys)
        self._counters = _Space(max_counters)
        self._lists = _Space(max_lists)
        self._locks: dict[str, asyncio.Lock] = {}

    def _spaces(self) -> tuple[_Space, _Space, _Space]:
        return (self._values, self._counters, self._lists)

    async def get(self, key: str) -> bytes | None:
        counter = self._counters.live(key)
        if isinstance(counter, int):  # counters read back like Redis: b"3"
            return str(counter).encode()
        value = self._values.live(key)
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes | str, *, ttl: float | None = None) -> None:
        self._counters.data.pop(key, None)
        self._values.put(key, value.encode() if isinstance(value, str) else value, ttl)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def set_many(self, items: Mapping[str, bytes], *, ttl: float | None = None) -> None:
        for key, value in items.items():
            await self.set(key, value, ttl=ttl)

    async def delete(self, *keys: str) -> int:
        return sum(
            any(space.data.pop(key, None) is not None for space in self._spaces()) for key in keys
        )

    async def delete_pattern(self, pattern: str) -> int:
        doomed = {
            key
            for space in self._spaces()
            for key in space.data
            if fnmatch.fnmatchcase(key, pattern)
        }
        return await self.delete(*doomed)

    async def incr(self, key: str, *, ttl: float) -> int:
        current = self._counters.live(key)
        if isinstance(current, int):
            value, expires = current + 1, self._counters.data[key][1]
            self._counters.data[key] = (value, expires)
            return value
        self._counters.put(key, 1, ttl)
        return 1

    async def push_recent(
        self,
        key: str,
        *values: str,
        keep: int,
        ttl: float,
        drop: int = 1,
        release: LockHold | None = None,
    ) -> None:
        # ``release``: an in-process lock costs nothing to release; its block's exit does.
        items = self._lists.live(key)
        kept = list(items) if isinstance(items, list) else []
        kept.extend(values)
        self._lists.put(key, kept[overflow(len(kept), keep, drop) :], ttl)

    async def recent(self, key: str) -> list[str]:
        items = self._lists.live(key)
        return list(items) if isinstance(items, list) else []

    @asynccontextmanager
    async def lock(self, key: str, *, timeout: float, wait: float) -> AsyncIterator[LockHold]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        if lock.locked() and wait <= 0:
            raise Busy("a turn for this user is already in progress")
        try:
            await asyncio.wait_for(lock.acquire(), timeout=max(wait, 0.001))
        except TimeoutError:
            raise Busy("a turn for this user is already in progress") from None
        try:
            yield LockHold()
        finally:
            lock.release()
            if not lock.locked() and not getattr(lock, "_waiters", None):
                self._locks.pop(key, None)

    async def ping(self) -> float:
        return 0.0

    async def close(self) -> None:
        for space in self._spaces():
            space.data.clear()


class RedisStore:
    """Redis-backed store that falls back to an in-process store while Redis is down."""

    name = "redis"
    _RETRY_AFTER = 5.0
    #: How long one call waits for Redis (connecting, sending and the reply together)
    #: before the in-process store answers instead.
    _TIMEOUT = 1.0

    def __init__(self, url: str, *, prefix: str = "companion:") -> None:
        import redis.asyncio as redis
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        # No ``socket_timeout`` (redis-py's default is 5 s): with one, redis-py runs every
        # send in a task of its own (``asyncio.wait_for``) and every read under a timer,
        # ~75 Python calls of each command's ~350; one ``asyncio.timeout`` around the
        # whole call bounds it instead (a cancelled command closes its connection, so no
        # reply is read out of turn).
        self._client = redis.from_url(
            url, socket_timeout=None, socket_connect_timeout=self._TIMEOUT
        )
        #: What counts as Redis being away (the in-process store answers meanwhile).
        self._outages = (RedisConnectionError, RedisTimeoutError, OSError)
        self._prefix = prefix
        self._fallback = MemoryStore()
        self._down_until = 0.0

    @property
    def degraded(self) -> bool:
        """Whether calls are currently served by the in-process fallback."""
        return self._down_until > time.monotonic()

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def _call(
        self,
        op: Callable[[], Awaitable[T]],
        fallback: Callable[[], Awaitable[T]],
        *,
        timeout: float = _TIMEOUT,
    ) -> T:
        if self.degraded:
            return await fallback()
        try:
            async with asyncio.timeout(timeout):
                return await op()
        except self._outages as exc:  # a timeout is an OSError too
            if not self.degraded:
                log.warning("redis unavailable, using in-process fallback: %s", exc)
            self._down_until = time.monotonic() + self._RETRY_AFTER
            return await fallback()

    async def get(self, key: str) -> bytes | None:
        async def op() -> bytes | None:
            value = await self._client.get(self._k(key))
            return value.encode() if isinstance(value, str) else value

        return await self._call(op, lambda: self._fallback.get(key))

    async def set(self, key: str, value: bytes | str, *, ttl: float | None = None) -> None:
        async def op() -> None:
            await self._client.set(self._k(key), value, px=None if ttl is None else int(ttl * 1000))

        await self._call(op, lambda: self._fallback.set(key, value, ttl=ttl))

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []

        async def op() -> list[bytes | None]:
            values = await self._client.mget([self._k(k) for k in keys])
            return [v.encode() if isinstance(v, str) else v for v in values]

        return await self._call(op, lambda: self._fallback.get_many(keys))

    async def set_many(self, items: Mapping[str, bytes], *, ttl: float | None = None) -> None:
        if not items:
            return
        if len(items) == 1:
            # One SET, not a pipeline of one: redis-py's pipeline (its object, its
            # command stack, its reply handling) costs about a third more CPU, and a
            # new query's vector is written once per search and per turn.
            ((key, value),) = items.items()
            await self.set(key, value, ttl=ttl)
            return

        async def op() -> None:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, value in items.items():
                    pipe.set(self._k(key), value, px=None if ttl is None else int(ttl * 1000))
                await pipe.execute()

        await self._call(op, lambda: self._fallback.set_many(items, ttl=ttl))

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0

        async def op() -> int:
            return int(await self._client.delete(*(self._k(k) for k in keys)))

        return await self._call(op, lambda: self._fallback.delete(*keys))

    async def delete_pattern(self, pattern: str) -> int:
        async def op() -> int:
            keys = self._client.scan_iter(match=self._k(pattern), count=1000)
            doomed = [key async for key in keys]
            return int(await self._client.delete(*doomed)) if doomed else 0

        # A scan walks the whole keyspace, a round trip per thousand keys: more time.
        return await self._call(op, lambda: self._fallback.delete_pattern(pattern), timeout=30)

    async def incr(self, key: str, *, ttl: float) -> int:
        async def op() -> int:
            # A script, not MULTI/INCR/PEXPIRE/EXEC: one command to send and one reply to
            # parse instead of four (a rate limit counts every request).
            return int(await self._client.eval(_INCR, 1, self._k(key), int(ttl * 1000)))

        return await self._call(op, lambda: self._fallback.incr(key, ttl=ttl))

    async def push_recent(
        self,
        key: str,
        *values: str,
        keep: int,
        ttl: float,
        drop: int = 1,
        release: LockHold | None = None,
    ) -> None:
        async def op() -> None:
            head = (keep, max(1, drop), int(ttl * 1000))
            if release is None or release.released or not release.name:
                await self._client.eval(_PUSH_RECENT, 1, self._k(key), *head, "", *values)
                return
            await self._client.eval(
                _PUSH_RECENT, 2, self._k(key), release.name, *head, release.token, *values
            )
            release.released = True

        await self._call(
            op, lambda: self._fallback.push_recent(key, *values, keep=keep, ttl=ttl, drop=drop)
        )

    async def recent(self, key: str) -> list[str]:
        async def op() -> list[str]:
            items = await self._client.lrange(self._k(key), 0, -1)
            return [item.decode() if isinstance(item, bytes) else str(item) for item in items]

        return await self._call(op, lambda: self._fallback.recent(key))

    @asynccontextmanager
    async def lock(self, key: str, *, timeout: float, wait: float) -> AsyncIterator[LockHold]:
        """A lock across processes (SET NX PX); falls back to an in-process lock."""
        if self.degraded:
            async with self._fallback.lock(key, timeout=timeout, wait=wait) as hold:
                yield hold
            return
        token = uuid.uuid4().hex
        name = self._k("lock:" + key)
        acquired = await self._acquire(name, token, timeout=timeout, wait=wait)
        if acquired is None:  # Redis went away while acquiring
            async with self._fallback.lock(key, timeout=timeout, wait=wait) as hold:
                yield hold
            return
        if not acquired:
            raise Busy("a turn for this user is already in progress")
        hold = LockHold(name, token)
        try:
            yield hold
        finally:
            if not hold.released:
                await self._release(name, token)

    async def _acquire(self, name: str, token: str, *, timeout: float, wait: float) -> bool | None:
        deadline = time.monotonic() + wait
        while True:
            try:
                async with asyncio.timeout(self._TIMEOUT):
                    taken = await self._client.set(name, token, nx=True, px=int(timeout * 1000))
                if taken:
                    return True
            except Exception as exc:
                log.warning("redis lock unavailable, using in-process lock: %s", exc)
                self._down_until = time.monotonic() + self._RETRY_AFTER
                return None
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)

    _RELEASE = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then "
        "return redis.call('del', KEYS[1]) else return 0 end"
    )

    async def _release(self, name: str, token: str) -> None:
        try:
            async with asyncio.timeout(self._TIMEOUT):
                await self._client.eval(self._RELEASE, 1, name, token)
        except Exception as exc:  # the lock expires by itself
            log.warning("could not release redis lock %s: %s", name, exc)

    async def ping(self) -> float:
        started = time.perf_counter()
        async with asyncio.timeout(self._TIMEOUT):
            await self._client.ping()
        return (time.perf_counter() - started) * 1000

    async def server_version(self) -> str:
        """Redis's version string, for doctor and health."""
        async with asyncio.timeout(self._TIMEOUT):
            info = await self._client.info("server")
        return str(info.get("redis_version", "?"))

    async def close(self) -> None:
        await self._client.aclose()


def create_store(redis_url: str | None, *, prefix: str = "companion:") -> RedisStore | MemoryStore:
    """Redis when configured, else the in-process store."""
    return RedisStore(redis_url, prefix=prefix) if redis_url else MemoryStore()
