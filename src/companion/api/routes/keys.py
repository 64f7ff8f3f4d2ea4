"""``/api/admin/keys``: list, create, revoke and rotate API keys (admins only).

A secret is returned once, by create and rotate; listings show ids, prefixes,
roles and times only. Revocation takes effect on the next request in this process and
within API_KEY_CACHE_SECONDS (5 s) in every other one (``companion.api.key_cache``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from companion.api.auth import key_cache
from companion.api.deps import AdminDep, RuntimeDep, SessionDep
from companion.store.repositories import api_keys, users

__all__ = ["router"]

router = APIRouter(prefix="/api/admin/keys", tags=["admin"])

_KEY_ID = Path(ge=1, le=2**63 - 1, description="The key id (see the listing).")


class KeyCreate(BaseModel):
    """A new key for ``user_id``."""

    user_id: str = Field(min_length=1, max_length=100)
    admin: bool = False
    name: str | None = Field(default=None, max_length=100)


class KeyRotate(BaseModel):
    """How long the old key keeps working after rotation."""

    grace_seconds: int = Field(default=3600, ge=0, le=30 * 86400)


@router.get("")
async def list_keys(
    _: AdminDep, session: SessionDep, user_id: str = Query(min_length=1, max_length=100)
) -> list[dict[str, Any]]:
    """The user's keys (never the secrets)."""
    return [
        api_keys.key_view(row) for row in await api_keys.list_api_keys(session, user_id=user_id)
    ]


@router.post("", status_code=201)
async def create_key(body: KeyCreate, _: AdminDep, session: SessionDep) -> dict[str, Any]:
    """Create a key; ``secret`` is in this response only."""
    await users.ensure_user(session, user_id=body.user_id)
    row, secret = await api_keys.create_api_key(
        session, user_id=body.user_id, is_admin=body.admin, name=body.name
    )
    await session.refresh(row)
    return {**api_keys.key_view(row), "secret": secret}


@router.post("/{key_id}/revoke")
async def revoke_key(
    key_id: Annotated[int, _KEY_ID], _: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Revoke at once (other processes: within API_KEY_CACHE_SECONDS)."""
    row = await api_keys.revoke_api_key(session, user_id=None, key_id=key_id)
    key_cache(runtime).forget(key_id)
    return api_keys.key_view(row)


@router.post("/{key_id}/rotate", status_code=201)
async def rotate_key(
    key_id: Annotated[int, _KEY_ID],
    _: AdminDep,
    session: SessionDep,
    runtime: RuntimeDep,
    body: KeyRotate | None = None,
) -> dict[str, Any]:
    """A new key replaces ``key_id``, which stays valid for ``grace_seconds``."""
    grace = timedelta(seconds=(body or KeyRotate()).grace_seconds)
    row, secret = await api_keys.rotate_api_key(session, user_id=None, key_id=key_id, grace=grace)
    key_cache(runtime).forget(key_id)  # its new expiry applies from the next request
    await session.refresh(row)
    return {**api_keys.key_view(row), "secret": secret, "replaces": key_id}
