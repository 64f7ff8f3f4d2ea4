"""``/api/proactive/*``: the SSE stream, a manual trigger, settings, decisions.

A user acts for themselves; an admin may pass ``user_id`` for anyone (foreign ids
read as 404). The manual trigger respects every hard limit; ``force`` (admin only)
skips the score threshold, never a limit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from companion.api.deps import PrincipalDep, RuntimeDep
from companion.errors import ConfigError, PermissionDenied
from companion.proactive import ProactiveService
from companion.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/api/proactive", tags=["proactive"])

UserQuery = Annotated[str | None, Query(max_length=100, description="Admin: act for this user.")]
_KEEPALIVE_SECONDS = 15.0


class SettingsUpdate(BaseModel):
    """Proactive settings to change; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    quiet_hours: str | None = Field(
        default=None, max_length=16, description="'23-08' or '22:30-07:00'; '' for the default"
    )
    timezone: str | None = Field(default=None, max_length=64, description="IANA name")


def _service(runtime: Runtime) -> ProactiveService:
    if not isinstance(runtime.proactive, ProactiveService):
        raise ConfigError("PROACTIVE", "the proactive service is not wired")
    return runtime.proactive


async def _events(service: ProactiveService, user_id: str) -> AsyncIterator[str]:
    subscription = await service.subscribe(user_id)  # registered before "connected"
    try:
        yield ": connected\n\n"
        while True:
            try:
                payload = await asyncio.wait_for(subscription.get(), _KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            yield f"event: proactive\ndata: {json.dumps(payload)}\n\n"
    finally:
        await subscription.close()


@router.get("/stream")
async def stream(
    request: Request, runtime: RuntimeDep, principal: PrincipalDep, user_id: UserQuery = None
) -> StreamingResponse:
    """Server-sent events: one ``proactive`` event per message the companion sends."""
    target = principal.act_as(user_id)
    return StreamingResponse(
        _events(_service(runtime), target),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/settings")
async def get_settings(
    runtime: RuntimeDep, principal: PrincipalDep, user_id: UserQuery = None
) -> dict[str, Any]:
    """Opt-out, quiet hours and timezone."""
    view = await _service(runtime).get_settings(principal.act_as(user_id))
    return view.to_dict()


@router.patch("/settings")
async def update_settings(
    body: SettingsUpdate, runtime: RuntimeDep, principal: PrincipalDep, user_id: UserQuery = None
) -> dict[str, Any]:
    """Change opt-out, quiet hours or timezone (validated; 422 names the field)."""
    view = await _service(runtime).update_settings(
        principal.act_as(user_id),
        enabled=body.enabled,
        quiet_hours=body.quiet_hours,
        timezone=body.timezone,
    )
    return view.to_dict()


@router.get("/decisions")
async def decisions(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    user_id: UserQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[dict[str, Any]]:
    """The latest evaluations (score, factors, decision, reason, thought, delivery)."""
    return await _service(runtime).decisions(principal.act_as(user_id), limit=limit)


@router.post("/decline")
async def decline(
    runtime: RuntimeDep, principal: PrincipalDep, user_id: UserQuery = None
) -> dict[str, Any]:
    """Decline the latest proactive message: no more for 24 hours."""
    decision_id = await _service(runtime).decline(principal.act_as(user_id))
    return {"declined": decision_id}


@router.post("/{user_id}")
async def trigger(
    user_id: str,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    force: Annotated[bool, Query(description="Admin: skip the score threshold.")] = False,
) -> dict[str, Any]:
    """Evaluate one user now; every hard limit still applies."""
    target = principal.act_as(user_id)
    if force and not principal.is_admin:
        raise PermissionDenied("force needs an admin key")
    return await _service(runtime).evaluate_user(target, force=force)
