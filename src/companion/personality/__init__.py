"""The personality domain: Big Five, PAD mood, needs, quirks and evolving style traits.

``build_personality(...)`` returns the ``PersonalityService`` (the pipeline's
``PersonalityPort``); the nightly/hourly job functions live in ``personality.jobs``.
The service is imported lazily: ``store.schema`` imports ``personality.models`` while
the store itself is still initialising, so this package must not pull in the service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from companion.personality.core import PRESETS, BigFive
    from companion.personality.service import PersonalityService
    from companion.settings import BehaviourSettings
    from companion.store.database import Database

__all__ = ["PRESETS", "BigFive", "PersonalityService", "build_personality"]


def __getattr__(name: str) -> Any:
    if name == "PersonalityService":
        from companion.personality.service import PersonalityService

        return PersonalityService
    if name in ("PRESETS", "BigFive"):
        from companion.personality import core

        return getattr(core, name)
    raise AttributeError(name)


async def build_personality(
    *, settings: BehaviourSettings, db: Database, models: Any = None
) -> PersonalityService:
    """The service on ``db``; uses the ``fast`` model of ``models`` when it is capable."""
    from companion.personality.service import PersonalityService

    fast = getattr(models, "fast", None)
    return PersonalityService(db=db, settings=settings, fast=fast)
