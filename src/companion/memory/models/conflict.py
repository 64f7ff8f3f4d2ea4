"""A detected conflict between two memories (with user_id: DECISIONS.md#conflicts-per-user)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, Float, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column, user_id_column

__all__ = ["MemoryConflict"]


class MemoryConflict(Base):
    """Two memories that disagree, and how the disagreement was resolved."""

    __tablename__ = "memory_conflicts"
    __table_args__ = (
        CheckConstraint("confidence BETWEEN 0 AND 1", name="confidence_range"),
        Index("ix_memory_conflicts_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = user_id_column()
    conflict_type: Mapped[str] = mapped_column(String(50), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    confidence: Mapped[float] = mapped_column(Float, nullable=False)
    primary_memory_id: Mapped[str | None] = mapped_column(String(100))
    conflicting_memory_id: Mapped[str | None] = mapped_column(String(100))
    related_memory_ids: Mapped[list[str]] = mapped_column(
        JSONB, nullable=False, server_default="[]"
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="detected")
    resolution_method: Mapped[str | None] = mapped_column(String(50))
    resolution_notes: Mapped[str | None] = mapped_column(Text)
    detected_at: Mapped[datetime] = created_at_column()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    conversation_context: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    user_notified: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
