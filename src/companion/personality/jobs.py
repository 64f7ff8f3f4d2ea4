"""Scheduled personality jobs (house style 14): idempotent, each returns a dict of counts.

Each takes the ``Runtime`` (or the ``PersonalityService`` itself) and an optional
``now``. Periods: drift, quirks and style are daily (``YYYY-MM-DD``), needs hourly
(``YYYY-MM-DDTHH``); a user already done for a period is skipped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from companion.personality import repository as repo
from companion.personality.evolution import (
    drift_user,
    evolve_quirks_user,
    reflect_style_user,
    update_needs_user,
)
from companion.personality.service import PersonalityService

__all__ = ["drift_baselines", "evolve_quirks", "reflect_style", "update_needs"]

log = logging.getLogger(__name__)


def _service(target: Any) -> PersonalityService:
    service = target if isinstance(target, PersonalityService) else target.personality
    if not isinstance(service, PersonalityService):
        raise TypeError("personality jobs need a Runtime with the personality service wired")
    return service


async def _users(service: PersonalityService) -> list[str]:
    async with service.db.transaction() as session:
        return await repo.list_companion_users(session)


def _done(name: str, counts: dict[str, int]) -> dict[str, int]:
    log.info("job finished", extra={"job": name, **counts})
    return counts


async def drift_baselines(target: Any, *, now: datetime | None = None) -> dict[str, int]:
    """Nightly baseline drift for every companion."""
    service, now = _service(target), now or datetime.now(UTC)
    counts = {"users": 0, "drifted": 0, "skipped": 0, "done": 0}
    for user_id in await _users(service):
        counts["users"] += 1
        counts[await drift_user(service, user_id=user_id, now=now, period=f"{now:%Y-%m-%d}")] += 1
    return _done("personality.drift", counts)


async def update_needs(target: Any, *, now: datetime | None = None) -> dict[str, int]:
    """Hourly needs growth, persisted."""
    service, now = _service(target), now or datetime.now(UTC)
    counts = {"users": 0, "became_urgent": 0}
    for user_id in await _users(service):
        counts["users"] += 1
        counts["became_urgent"] += await update_needs_user(
            service, user_id=user_id, now=now, period=f"{now:%Y-%m-%dT%H}"
        )
    return _done("personality.needs", counts)


async def evolve_quirks(target: Any, *, now: datetime | None = None) -> dict[str, int]:
    """Nightly quirk lifecycle "B"."""
    service, now = _service(target), now or datetime.now(UTC)
    counts = {"users": 0, "created": 0, "strengthened": 0, "weakened": 0, "deactivated": 0}
    for user_id in await _users(service):
        counts["users"] += 1
        result = await evolve_quirks_user(
            service, user_id=user_id, now=now, period=f"{now:%Y-%m-%d}"
        )
        for key, value in result.items():
            counts[key] += value
    return _done("personality.quirks", counts)


async def reflect_style(target: Any, *, now: datetime | None = None) -> dict[str, int]:
    """Daily style-trait reflection."""
    service, now = _service(target), now or datetime.now(UTC)
    counts = {"users": 0, "changed": 0, "unchanged": 0, "skipped": 0, "done": 0}
    for user_id in await _users(service):
        counts["users"] += 1
        counts[
            await reflect_style_user(service, user_id=user_id, now=now, period=f"{now:%Y-%m-%d}")
        ] += 1
    return _done("personality.style", counts)
