"""A psychological need of the companion that grows hourly and is satisfied by talk."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, companion_id_column, created_at_column, user_id_column

__all__ = ["Need"]


class Need(Base):
    """social, intellectual, creative, rest or validation, with its level in [0, 1]."""

    __tablename__ = "needs"
    __table_args__ = (
        UniqueConstraint("companion_id", "need_type", name="uq_needs_companion_type"),
        CheckConstraint("current_level BETWEEN 0 AND 1", name="level_range"),
        CheckConstraint(
            "need_type IN ('social','intellectual','creative','rest','validation')",
            name="need_type_valid",
        ),
        Index(
            "ix_needs_urgent",
            "companion_id",
            "current_level",
            postgresql_where="current_level > 0.8",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = user_id_column()
    companion_id: Mapped[int] = companion_id_column()
    need_type: Mapped[str] = mapped_column(String(20), nullable=False)
    current_level: Mapped[float] = mapped_column(Float, nullable=False, server_default="0.5")
    baseline_level: Mapped[float] = mapped_column(Float, nullable=False, server_default="0.5")
    decay_rate: Mapped[float] = mapped_column(Float, nullable=False, server_default="0.02")
    satisfaction_rate: Mapped[float] = mapped_column(Float, nullable=False, server_default="0.1")
    satisfaction_pattern: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default="{}"
    )
    trigger_threshold: Mapped[float] = mapped_column(Float, nullable=False, server_default="0.8")
    influence_on_mood: Mapped[float] = mapped_column(Float, nullable=False, server_default="0.1")
    proactive_weight: Mapped[float] = mapped_column(Float, nullable=False, server_default="1.0")
    satisfaction_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_satisfied: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_updated: Mapped[datetime] = created_at_column()
