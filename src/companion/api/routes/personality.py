"""``/api/personality/*``: the companion's mood, history, needs, quirks and style.

Users read their own companion; admins read anyone's and may set the preset or tune
style traits. A foreign user id reads as 404 (``Principal.act_as``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from companion.api.deps import AdminDep, PrincipalDep, RuntimeDep
from companion.errors import ConfigError
from companion.personality import PersonalityService
from companion.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/api/personality", tags=["personality"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


class PresetRequest(BaseModel):
    """Exactly one of a preset name or explicit Big Five values."""

    model_config = ConfigDict(extra="forbid")
    preset: str | None = None
    big_five: dict[str, float] | None = None


class TuneRequest(BaseModel):
    """Style traits to set (whole numbers in [20, 95]) and why."""

    model_config = ConfigDict(extra="forbid")
    traits: dict[str, int]
    reason: str = Field(default="tuned by an admin", max_length=500)


def _service(runtime: Runtime) -> PersonalityService:
    service = runtime.personality
    if not isinstance(service, PersonalityService):
        raise ConfigError("personality", "the personality service is not wired in this process")
    return service


@router.get("/current/{user_id}")
async def current(user_id: str, principal: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Big Five, PAD now (with homeostasis), baseline, emotion, needs, quirks, style."""
    return await _service(runtime).current(user_id=principal.act_as(user_id))


@router.get("/history/{user_id}")
async def history(
    user_id: str,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Every stored personality state, newest first (paged)."""
    return await _service(runtime).history(
        user_id=principal.act_as(user_id), limit=limit, offset=offset
    )


@router.get("/quirks/{user_id}")
async def quirks(
    user_id: str, principal: PrincipalDep, runtime: RuntimeDep, active_only: bool = False
) -> list[dict[str, Any]]:
    """Quirks with strength and confidence, strongest first."""
    return await _service(runtime).quirks(
        user_id=principal.act_as(user_id), active_only=active_only
    )


@router.get("/needs/{user_id}")
async def needs(user_id: str, principal: PrincipalDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    """Needs with their levels now; ``urgent`` above the trigger threshold."""
    return await _service(runtime).needs(user_id=principal.act_as(user_id))


@router.get("/style/{user_id}")
async def style(
    user_id: str,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Style-trait versions with reason and diff, newest first."""
    return await _service(runtime).style_history(
        user_id=principal.act_as(user_id), limit=limit, offset=offset
    )


@router.put("/preset/{user_id}")
async def set_preset(
    user_id: str, body: PresetRequest, admin: AdminDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Admin: set the Big Five from a preset or explicit values (recorded in history)."""
    return await _service(runtime).set_preset(
        user_id=admin.act_as(user_id), preset=body.preset, big_five=body.big_five
    )


@router.patch("/style/{user_id}")
async def tune_traits(
    user_id: str, body: TuneRequest, admin: AdminDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Admin: tune style traits; a new version with the reason and diff."""
    return await _service(runtime).tune_traits(
        user_id=admin.act_as(user_id), traits=body.traits, reason=body.reason
    )
