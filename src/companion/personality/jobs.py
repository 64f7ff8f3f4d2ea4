"""Scheduled personality jobs: idempotent, each returns a dict of counts.

Each takes the ``Runtime`` (or the ``PersonalityService`` itself) and an optional
``now``. Periods: drift, quirks and style are daily (``YYYY-MM-DD``), needs hourly
(``YYYY-MM-DDTHH``); a user already done for a period is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
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


async def _each(
    service: PersonalityService, name: str, step: Callable[[str], Awaitable[Any]]
) -> AsyncIterator[tuple[str, Any]]:
    """``(user_id, result)`` per companion user; a user whose step raises is logged
    with the user id and skipped (``(user_id, None)``), never stopping the others."""
    for user_id in await _users(service):
        try:
            result = await step(user_id)
        except Exception:
            log.exception("job step failed for one user", extra={"job": name, "user_id": user_id})
            result = None
        yield user_id, result


async def drift_baselines(target: Any, *, now: datetime | None = None) -> dict[str, int]:
    """Nightly baseline drift for every companion."""
    service, now = _service(target), now or datetime.now(UTC)
    counts = {"users": 0, "drifted": 0, "skipped": 0, "done": 0, "failed": 0}
    period = f"{now:%Y-%m-%d}"

    async def step(user_id: str) -> str:
        return await drift_user(service, user_id=user_id, now=now, period=period)

    async for _, result in _each(service, "personality.drift", step):
        counts["users"] += 1
        counts[result or "failed"] += 1
    return _done("personality.drift", counts)


async def update_needs(target: Any, *, now: datetime | None = None) -> dict[str, int]:
    """Hourly needs growth, persisted."""
    service, now = _service(target), now or datetime.now(UTC)
    counts = {"users": 0, "became_urgent": 0, "failed": 0}
    period = f"{now:%Y-%m-%dT%H}"

    async def step(user_id: str) -> int:
        return await update_needs_user(service, user_id=user_id, now=now, period=period)

    async for _, result in _each(service, "personality.needs", step):
        counts["users"] += 1
        if result is None:
            counts["failed"] += 1
        else:
            counts["became_urgent"] += result
    return _done("personality.needs", counts)


async def evolve_quirks(target: Any, *, now: datetime | None = None) -> dict[str, int]:
    """Nightly quirk lifecycle "B"."""
    service, now = _service(target), now or datetime.now(UTC)
    counts = {"users": 0, "created": 0, "strengthened": 0, "weakened": 0, "deactivated": 0,
              "failed": 0}  # fmt: skip
    period = f"{now:%Y-%m-%d}"

    async def step(user_id: str) -> dict[str, int]:
        return await evolve_quirks_user(service, user_id=user_id, now=now, period=period)

    async for _, result in _each(service, "personality.quirks", step):
        counts["users"] += 1
        if result is None:
            counts["failed"] += 1
            continue
        for key, value in result.items():
            counts[key] += value
    return _done("personality.quirks", counts)


async def reflect_style(target: Any, *, now: datetime | None = None) -> dict[str, int]:
    """Daily style-trait reflection."""
    service, now = _service(target), now or datetime.now(UTC)
    counts = {"users": 0, "changed": 0, "unchanged": 0, "skipped": 0, "done": 0, "failed": 0}
    period = f"{now:%Y-%m-%d}"

    async def step(user_id: str) -> str:
        return await reflect_style_user(service, user_id=user_id, now=now, period=period)

    async for _, result in _each(service, "personality.style", step):
        counts["users"] += 1
        counts[result or "failed"] += 1
    return _done("personality.style", counts)
