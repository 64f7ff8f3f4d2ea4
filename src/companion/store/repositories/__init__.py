"""Data access for the core tables. Every function that touches user data takes
``user_id`` and filters by it; an id belonging to someone else reads as ``NotFound``."""

from __future__ import annotations

from companion.store.repositories import (
    api_keys,
    conversations,
    interactions,
    jobs,
    outbox,
    stats,
    users,
)

__all__ = ["api_keys", "conversations", "interactions", "jobs", "outbox", "stats", "users"]
