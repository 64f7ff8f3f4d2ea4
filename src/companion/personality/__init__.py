"""The personality domain: Big Five, PAD mood, needs, quirks and evolving style traits.

``build_personality(runtime)`` returns the ``PersonalityService`` (the pipeline's
``PersonalityPort``); the nightly/hourly job functions live in ``personality.jobs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion.personality.core import PRESETS, BigFive
from companion.personality.service import PersonalityService

if TYPE_CHECKING:
    from companion.runtime import Runtime

__all__ = ["PRESETS", "BigFive", "PersonalityService", "build_personality"]


async def build_personality(runtime: Runtime) -> PersonalityService:
    """The service for ``runtime``; uses the ``fast`` model when one is wired and capable."""
    fast = getattr(runtime.models, "fast", None) if runtime.models is not None else None
    return PersonalityService(db=runtime.db, settings=runtime.settings.behaviour, fast=fast)
