"""``/api/users/{user_id}``: delete an account and everything it owns (self or admin)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from companion.api.auth import key_cache
from companion.api.deps import PrincipalDep, RuntimeDep
from companion.store.accounts import delete_account
from companion.tools.build import account_folders

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/users", tags=["users"])


class DeletedOut(BaseModel):
    """What was removed: rows per table, plus ``kv_keys`` from the key-value store."""

    deleted: bool
    user_id: str
    removed: dict[str, int]


@router.delete("/{user_id}", response_model=DeletedOut)
async def delete_user(
    user_id: Annotated[str, Path(min_length=1, max_length=100)],
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> DeletedOut:
    """Delete the user and all their data in one transaction (yourself, or any as admin).

    Messages, interactions, memories, documents, personality, incidents, proactive
    decisions, API keys, model-call records and job marks all go; so does the user's
    short-term buffer. Another user's id reads as 404 for a non-admin.
    """
    target = principal.act_as(user_id)
    folders = account_folders(runtime.settings, target)
    removed = await delete_account(runtime.db, runtime.kv, user_id=target, folders=folders)
    key_cache(runtime).forget_user(target)  # its keys are gone: refused from the next request
    log.info("account deleted", extra={"user_id": target, "by_admin": target != principal.user_id})
    return DeletedOut(deleted=True, user_id=target, removed=removed)
