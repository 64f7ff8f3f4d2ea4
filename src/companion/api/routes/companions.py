"""``/api/companions``: a person's companions — list, create, switch, rename, delete.

Each route acts for the caller; admins may pass ``user_id`` (query) to act for anyone.
A companion id that is not the person's own reads as 404. Importing a character card
as a new companion is ``POST /api/persona/import``; exporting one is
``GET /api/persona/export?companion_id=…``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from companion.api.deps import PrincipalDep, RuntimeDep
from companion.api.routes.personality import _service
from companion.personality.companions import (
    activate_companion,
    delete_companion,
    list_companions,
    new_companion,
    update_companion,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/companions", tags=["companions"])

ForUser = Annotated[str | None, Query(max_length=100, description="admins: act for this user")]
CompanionId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class NewCompanion(BaseModel):
    """A companion from a personality preset (import a card for anything richer)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    preset: str = Field(default="curious_companion", max_length=50)
    private: bool = False


class CompanionChange(BaseModel):
    """A new name and/or whether the companion's memories are its alone."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    private: bool | None = None


@router.get("")
async def companions(
    principal: PrincipalDep, runtime: RuntimeDep, user_id: ForUser = None
) -> dict[str, Any]:
    """Every companion of the person, oldest first, and which one is active."""
    items = await list_companions(_service(runtime), user_id=principal.act_as(user_id))
    active = next((c["id"] for c in items if c["active"]), None)
    return {"items": items, "active_id": active}


@router.post("", status_code=201)
async def create(
    body: NewCompanion, principal: PrincipalDep, runtime: RuntimeDep, user_id: ForUser = None
) -> dict[str, Any]:
    """Create a companion from a preset and make it the active one."""
    return await new_companion(
        _service(runtime),
        user_id=principal.act_as(user_id),
        name=body.name,
        preset=body.preset,
        private=body.private,
    )


@router.post("/{companion_id}/activate")
async def activate(
    companion_id: CompanionId, principal: PrincipalDep, runtime: RuntimeDep, user_id: ForUser = None
) -> dict[str, Any]:
    """Switch: this companion answers from now on (the others keep their state)."""
    return await activate_companion(
        _service(runtime), user_id=principal.act_as(user_id), companion_id=companion_id
    )


@router.patch("/{companion_id}")
async def change(
    companion_id: CompanionId,
    body: CompanionChange,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    user_id: ForUser = None,
) -> dict[str, Any]:
    """Rename the companion and/or mark it private."""
    return await update_companion(
        _service(runtime),
        user_id=principal.act_as(user_id),
        companion_id=companion_id,
        name=body.name,
        private=body.private,
    )


@router.delete("/{companion_id}")
async def remove(
    companion_id: CompanionId, principal: PrincipalDep, runtime: RuntimeDep, user_id: ForUser = None
) -> dict[str, Any]:
    """Delete the companion and its own state (never the person's last one)."""
    return await delete_companion(
        _service(runtime), user_id=principal.act_as(user_id), companion_id=companion_id
    )
