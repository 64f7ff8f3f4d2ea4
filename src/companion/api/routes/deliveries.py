"""``/api/admin/deliveries``: the outbound deliveries queue for bots without database access.

``companion discord --gateway URL`` (a bot that only talks HTTP) claims its channel's
queued messages here with a long poll, sends them, and reports each outcome. The same
claims, leases and expiry apply as for bots that read PostgreSQL directly.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from companion.api.deps import AdminDep, RuntimeDep
from companion.errors import NotFound
from companion.proactive.outbox import record_final
from companion.store.models import OutboundDelivery
from companion.store.repositories import outbox

__all__ = ["router"]

router = APIRouter(prefix="/api/admin/deliveries", tags=["admin"])

_CHANNEL = r"^[a-z][a-z0-9_]{0,29}$"
_LEASE = timedelta(minutes=2)
_RETRY = timedelta(seconds=30)
_POLL_SECONDS = 1.0


class ClaimRequest(BaseModel):
    """Which channel's messages, how many, and how long to wait for one."""

    channel: str = Field(pattern=_CHANNEL)
    worker: str = Field(default="remote", min_length=1, max_length=60)
    limit: int = Field(default=10, ge=1, le=100)
    wait_seconds: float = Field(default=0.0, ge=0.0, le=30.0)


class ResultRequest(BaseModel):
    """What happened to one claimed delivery."""

    delivered: bool
    via: str | None = Field(default=None, max_length=100)
    detail: str = Field(default="", max_length=2000)


@router.get("")
async def list_deliveries(
    _: AdminDep,
    runtime: RuntimeDep,
    user_id: str | None = Query(None, max_length=100),
    channel: str | None = Query(None, pattern=_CHANNEL),
    status: str | None = Query(None, pattern="^(pending|sending|delivered|failed|expired)$"),
    limit: int = Query(50, ge=1, le=500),
) -> list[dict[str, Any]]:
    """Latest deliveries, newest first."""
    async with runtime.db.session() as session:
        rows = await outbox.list_deliveries(
            session, user_id=user_id, channel=channel, status=status, limit=limit
        )
        return [outbox.view(r) for r in rows]


@router.post("/claim")
async def claim(body: ClaimRequest, _: AdminDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    """Claim due messages of ``channel`` (waiting up to ``wait_seconds`` for one)."""
    deadline = time.monotonic() + body.wait_seconds
    worker = f"{body.worker}@gateway:{os.getpid()}"
    while True:
        async with runtime.db.transaction() as session:
            expired = await outbox.expire_due(session, channel=body.channel)
            rows = await outbox.claim(
                session,
                channel=body.channel,
                worker=worker,
                limit=body.limit,
                lease=_LEASE,
            )
            claimed = [outbox.view(r) for r in rows]
        await record_final(runtime.db, expired)
        if claimed or time.monotonic() >= deadline:
            return claimed
        await asyncio.sleep(_POLL_SECONDS)


@router.post("/{delivery_id}/result")
async def result(
    delivery_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: ResultRequest,
    _: AdminDep,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    """Record an attempt; a failure is retried later, a success is final."""
    async with runtime.db.transaction() as session:
        row = await session.get(OutboundDelivery, delivery_id)
        if row is None or row.status != "sending":
            raise NotFound(f"delivery {delivery_id} is not claimed (unknown or finished)")
        final = await outbox.finish(
            session,
            delivery_id=delivery_id,
            delivered=body.delivered,
            via=body.via,
            detail=body.detail,
            retry_in=_RETRY,
        )
    if final is not None:
        await record_final(runtime.db, [final])
    return {"id": delivery_id, "status": final.status if final else "pending"}
