"""Recording tool calls (``tool_calls``) and reading them back for admins."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy import select

from companion.store.database import Database
from companion.store.repositories import users
from companion.tools.models import ToolCall

__all__ = ["CallRecorder", "ToolCallRecord", "recent_calls"]

log = logging.getLogger(__name__)

_ARGUMENT_CHARS = 2000

TOOL_CALLS = Counter(
    "companion_tool_calls_total", "Tool calls of the tool agent", ["tool", "outcome"]
)


@dataclass(frozen=True)
class ToolCallRecord:
    """One finished call."""

    user_id: str
    tool: str
    arguments: dict[str, Any]
    outcome: str
    duration_ms: float
    output_chars: int
    error: str | None = None
    mode: str = "native"


def _short(arguments: dict[str, Any]) -> dict[str, Any]:
    """Long string arguments (code, file content) are cut for the record."""
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        if isinstance(value, str) and len(value) > _ARGUMENT_CHARS:
            value = value[:_ARGUMENT_CHARS] + f"… ({len(value)} characters)"
        out[key] = value
    return out


class CallRecorder:
    """Writes records; a failure to record is logged and never fails the turn."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, record: ToolCallRecord) -> None:
        """Insert one row (the user row is ensured first: the CLI may name a new user)."""
        try:
            async with self.db.transaction() as session:
                await users.ensure_user(session, user_id=record.user_id)
                session.add(
                    ToolCall(
                        user_id=record.user_id,
                        tool=record.tool,
                        arguments=_short(record.arguments),
                        outcome=record.outcome,
                        duration_ms=round(record.duration_ms, 2),
                        output_chars=record.output_chars,
                        error=(record.error or None) and str(record.error)[:1000],
                        mode=record.mode,
                    )
                )
        except Exception:
            log.exception("could not record a tool call", extra={"tool": record.tool})


@dataclass(frozen=True)
class ToolCallView:
    """A recorded call as admins see it."""

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


async def recent_calls(db: Database, *, user_id: str | None, limit: int) -> list[ToolCallView]:
    """The newest calls (of one user when ``user_id`` is given)."""
    query = select(ToolCall).order_by(ToolCall.created_at.desc(), ToolCall.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(ToolCall.user_id == user_id)
    async with db.session() as session:
        rows = (await session.execute(query)).scalars().all()
    return [
        ToolCallView(
            id=r.id,
            user_id=r.user_id,
            tool=r.tool,
            arguments=r.arguments,
            outcome=r.outcome,
            duration_ms=r.duration_ms,
            output_chars=r.output_chars,
            error=r.error,
            mode=r.mode,
            created_at=r.created_at,
        )
        for r in rows
    ]
