"""``/api/admin/tools``: the tool agent's recorded calls (admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from companion.api.deps import AdminDep, RuntimeDep
from companion.tools.calls import recent_calls

__all__ = ["router"]

router = APIRouter(prefix="/api/admin/tools", tags=["admin"])


class ToolCallOut(BaseModel):
    """One recorded call: tool, arguments (long ones cut), outcome, duration, output size."""

    id: int
    user_id: str
    tool: str
    arguments: dict[str, Any]
    outcome: str
    duration_ms: float
    output_chars: int
    error: str | None
    mode: str
    created_at: datetime


@router.get("/calls", response_model=list[ToolCallOut])
async def tool_calls(
    _: AdminDep,
    runtime: RuntimeDep,
    user_id: str | None = Query(None, min_length=1, max_length=100),
    limit: int = Query(50, ge=1, le=500),
) -> list[ToolCallOut]:
    """The newest tool calls, of one user with ``user_id``."""
    rows = await recent_calls(runtime.db, user_id=user_id, limit=limit)
    return [ToolCallOut.model_validate(row, from_attributes=True) for row in rows]
