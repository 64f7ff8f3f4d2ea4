"""Per-user fan-out of proactive messages to open SSE streams.

In one process an in-memory broker suffices. With REDIS_URL set, messages go through
Redis pub/sub, so a message produced by ``companion worker`` reaches the stream held
open by ``companion serve``. ``publish`` returns how many streams received it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

__all__ = ["Broker", "InProcessBroker", "RedisBroker", "create_broker"]

log = logging.getLogger(__name__)

_QUEUE_SIZE = 100


class Broker(Protocol):
    """Publish to a user's streams; subscribe to one user's messages."""

    async def publish(self, user_id: str, payload: dict[str, Any]) -> int:
        """Send ``payload`` to every open stream of ``user_id``; returns the receivers."""
        ...

    def subscribe(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        """Messages for ``user_id`` until the caller stops iterating."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class InProcessBroker:
    """Queues per subscriber, in this process only."""

    def __init__(self) -> None:
        self._subs: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def publish(self, user_id: str, payload: dict[str, Any]) -> int:
        """Put ``payload`` on every queue of ``user_id`` (a full queue drops it)."""
        count = 0
        for queue in list(self._subs.get(user_id, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(payload)
                count += 1
        return count

    async def subscribe(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        """Yield messages for ``user_id`` as they are published."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_SIZE)
        self._subs[user_id].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subs[user_id].discard(queue)
            if not self._subs[user_id]:
                self._subs.pop(user_id, None)

    def subscribers(self, user_id: str) -> int:
        """How many streams ``user_id`` has open here."""
        return len(self._subs.get(user_id, ()))

    async def close(self) -> None:
        """Nothing to release."""


class RedisBroker:
    """Redis pub/sub on ``<prefix>proactive:<user_id>``."""

    def __init__(self, url: str, *, prefix: str) -> None:
        import redis.asyncio as redis

        self._client = redis.Redis.from_url(url)
        self._prefix = prefix

    def _channel(self, user_id: str) -> str:
        return f"{self._prefix}proactive:{user_id}"

    async def publish(self, user_id: str, payload: dict[str, Any]) -> int:
        """PUBLISH; returns the number of subscribed streams (0 if Redis is down)."""
        try:
            return int(await self._client.publish(self._channel(user_id), json.dumps(payload)))
        except Exception as exc:  # a dead Redis means "nobody listening"
            log.warning("redis publish failed: %s", exc)
            return 0

    async def subscribe(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        """SUBSCRIBE and yield decoded messages."""
        pubsub = self._client.pubsub()
        await pubsub.subscribe(self._channel(user_id))
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30.0)
                if message is not None and message.get("type") == "message":
                    yield json.loads(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe()
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        """Close the client."""
        await self._client.aclose()


def create_broker(redis_url: str | None, *, prefix: str) -> InProcessBroker | RedisBroker:
    """Redis pub/sub when REDIS_URL is set, else in-process."""
    return RedisBroker(redis_url, prefix=prefix) if redis_url else InProcessBroker()
