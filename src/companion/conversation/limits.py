"""Rate limits as fixed windows on shared counters (Redis when present).

A limit is a number of events per window; a profile is a set of limits that must all
hold. Counters live in the key-value store, so several gateway processes share them;
when Redis is down the store's in-process fallback keeps limiting per process.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from companion.errors import RateLimited
from companion.settings import Settings
from companion.store.kv import KeyValueStore

__all__ = ["PUBLIC_LIMITS", "Limit", "RateLimiter", "profile_limits"]


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events per ``window`` seconds; ``name`` appears in errors."""

    count: int
    window: int
    name: str


#: HER's public mode: 10 per minute, 100 per hour, at most 5 in any 10 seconds.
PUBLIC_LIMITS = (
    Limit(5, 10, "burst"),
    Limit(10, 60, "minute"),
    Limit(100, 3600, "hour"),
)


def profile_limits(settings: Settings) -> tuple[Limit, ...]:
    """The per-user limits of the configured profile.

    ``default``: RATE_LIMIT_PER_MINUTE per minute. ``public`` (HER's public Telegram
    mode): 10 per minute, 100 per hour, and a burst of at most 5 in any 10 seconds.
    """
    if settings.security.rate_limit_profile == "public":
        return PUBLIC_LIMITS
    return (Limit(settings.security.rate_limit_per_minute, 60, "minute"),)


class RateLimiter:
    """Checks and counts events for a subject (``user:<id>``, ``ip:<addr>``)."""

    def __init__(self, kv: KeyValueStore) -> None:
        self._kv = kv

    async def hit(self, subject: str, limits: Sequence[Limit], *, now: float | None = None) -> None:
        """Count one event; raise ``RateLimited`` (with seconds to wait) over any limit."""
        now = time.time() if now is None else now
        for limit in limits:
            bucket = int(now // limit.window)
            key = f"ratelimit:{subject}:{limit.window}:{bucket}"
            count = await self._kv.incr(key, ttl=limit.window + 1)
            if count > limit.count:
                retry_after = max(1, int((bucket + 1) * limit.window - now + 0.999))
                raise RateLimited(
                    f"rate limit exceeded: at most {limit.count} requests per "
                    f"{_window_text(limit.window)}; retry in {retry_after} s",
                    retry_after=retry_after,
                )


def _window_text(seconds: int) -> str:
    if seconds == 60:
        return "minute"
    if seconds == 3600:
        return "hour"
    return f"{seconds} seconds"
