"""The ``tool_calls`` table: every tool call the agent made, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column

__all__ = ["ToolCall"]


class ToolCall(Base):
    """One call: which tool, with what arguments, how long, how it went, how much output."""

    __tablename__ = "tool_calls"
    __table_args__ = (Index("ix_tool_calls_user_time", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    tool: Mapped[str] = mapped_column(String(50), nullable=False)
    arguments: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    #: ok | error | unavailable | denied | timeout | flagged
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    duration_ms: Mapped[float] = mapped_column(Float, nullable=False)
    output_chars: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    #: native (OpenAI tools) or json (the constrained-JSON fallback) or cli
    mode: Mapped[str] = mapped_column(String(10), nullable=False, server_default="native")
    created_at: Mapped[datetime] = created_at_column()
