"""A short-lived, per-process memory of API keys already checked against PostgreSQL.

Every API request used to look its key up (and write ``last_used_at``) in its own
transaction: two round trips and a row write per turn. A key found live is now
remembered by its digest for ``API_KEY_CACHE_SECONDS`` (default 5 s), never past its
own expiry. Revoking or rotating a key through this process forgets it at once; other
processes (``serve --workers N``, other hosts) refuse it at the latest when their
entry runs out, so a revocation takes effect everywhere within that many seconds.
Unknown keys are never remembered: each attempt goes to the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from companion.store.repositories import api_keys

__all__ = ["ApiKeyCache", "CachedKey"]


@dataclass(frozen=True)
class CachedKey:
    """What a request needs to know about a live key."""

    key_id: int
    user_id: str
    is_admin: bool
    #: Monotonic time after which the key must be looked up again.
    until: float


class ApiKeyCache:
    """Live keys by digest for ``ttl`` seconds (0 turns the cache off)."""

    def __init__(self, *, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, CachedKey] = {}

    def get(self, secret: str) -> CachedKey | None:
        """The remembered key for ``secret``, if still fresh."""
        if self.ttl <= 0:
            return None
        digest = api_keys.hash_key(secret)
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if time.monotonic() >= entry.until:
            del self._entries[digest]
            return None
        return entry

    def put(
        self,
        secret: str,
        *,
        key_id: int,
        user_id: str,
        is_admin: bool,
        expires_at: datetime | None,
    ) -> None:
        """Remember a key just found live (not past its own ``expires_at``)."""
        if self.ttl <= 0:
            return
        now = time.monotonic()
        until = now + self.ttl
        if expires_at is not None:
            left = (expires_at - datetime.now(UTC)).total_seconds()
            until = min(until, now + max(0.0, left))
        if len(self._entries) > 10_000:  # many keys: start over rather than grow
            self._entries.clear()
        self._entries[api_keys.hash_key(secret)] = CachedKey(key_id, user_id, is_admin, until)

    def forget(self, key_id: int) -> None:
        """Drop key ``key_id`` (revoked or rotated here): refused from the next request."""
        for digest, entry in list(self._entries.items()):
            if entry.key_id == key_id:
                del self._entries[digest]

    def forget_user(self, user_id: str) -> None:
        """Drop every key of ``user_id`` (the account was deleted here)."""
        for digest, entry in list(self._entries.items()):
            if entry.user_id == user_id:
                del self._entries[digest]
