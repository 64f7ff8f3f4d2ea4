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
from typing import Any, Protocol

__all__ = ["Broker", "InProcessBroker", "RedisBroker", "Subscription", "create_broker"]

log = logging.getLogger(__name__)

_QUEUE_SIZE = 100


class Subscription(Protocol):
    """One open stream: registered on creation, so nothing published after is missed."""

    async def get(self) -> dict[str, Any]:
        """The next message (waits)."""
        ...

    async def close(self) -> None:
        """Stop receiving."""
        ...


class Broker(Protocol):
    """Publish to a user's streams; subscribe to one user's messages."""

    async def publish(self, user_id: str, payload: dict[str, Any]) -> int:
        """Send ``payload`` to every open stream of ``user_id``; returns the receivers."""
        ...

    async def subscribe(self, user_id: str) -> Subscription:
        """Open a stream of ``user_id``'s messages."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class _QueueSubscription:
    def __init__(self, broker: InProcessBroker, user_id: str) -> None:
        self.broker, self.user_id = broker, user_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_SIZE)

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()

    async def close(self) -> None:
        subs = self.broker._subs.get(self.user_id)
        if subs is not None:
            subs.discard(self.queue)
            if not subs:
                self.broker._subs.pop(self.user_id, None)


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

    async def subscribe(self, user_id: str) -> Subscription:
        """A queue registered for ``user_id``."""
        sub = _QueueSubscription(self, user_id)
        self._subs[user_id].add(sub.queue)
        return sub

    def subscribers(self, user_id: str) -> int:
        """How many streams ``user_id`` has open here."""
        return len(self._subs.get(user_id, ()))

    async def close(self) -> None:
        """Nothing to release."""


class _RedisSubscription:
    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub

    async def get(self) -> dict[str, Any]:
        while True:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=30.0)
            if message is not None and message.get("type") == "message":
                data: dict[str, Any] = json.loads(message["data"])
                return data

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.pubsub.unsubscribe()
            await self.pubsub.aclose()


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

    async def subscribe(self, user_id: str) -> Subscription:
        """SUBSCRIBE (confirmed by Redis before returning)."""
        pubsub = self._client.pubsub()
        await pubsub.subscribe(self._channel(user_id))
        return _RedisSubscription(pubsub)

    async def close(self) -> None:
        """Close the client."""
        await self._client.aclose()


def create_broker(redis_url: str | None, *, prefix: str) -> InProcessBroker | RedisBroker:
    """Redis pub/sub when REDIS_URL is set, else in-process."""
    return RedisBroker(redis_url, prefix=prefix) if redis_url else InProcessBroker()
