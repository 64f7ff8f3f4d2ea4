"""A quirk the companion has developed (lifecycle "B" of the Discord design)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, companion_id_column, created_at_column, user_id_column

__all__ = ["Quirk"]


class Quirk(Base):
    """A speech pattern, behaviour or preference with a strength that grows and fades."""

    __tablename__ = "quirks"
    __table_args__ = (
        UniqueConstraint("companion_id", "name", name="uq_quirks_companion_name"),
        CheckConstraint("strength BETWEEN 0 AND 1", name="strength_range"),
        CheckConstraint(
            "category IN ('speech_pattern','behavior','preference')", name="category_valid"
        ),
        Index("ix_quirks_companion_active", "companion_id", "is_active"),
        Index(
            "ix_quirks_strength",
            "companion_id",
            text("strength DESC"),
            postgresql_where="is_active",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = user_id_column()
    companion_id: Mapped[int] = companion_id_column()
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    category: Mapped[str] = mapped_column(String(50), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    strength: Mapped[float] = mapped_column(Float, nullable=False, server_default="0.0")
    first_observed: Mapped[datetime] = created_at_column()
    last_reinforced: Mapped[datetime] = created_at_column()
    last_observed: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    observation_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    reinforcement_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    decay_rate: Mapped[float] = mapped_column(Float, nullable=False, server_default="0.05")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    confidence: Mapped[float] = mapped_column(Float, nullable=False, server_default="0.1")
    examples: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, server_default="[]")
    context_triggers: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, server_default="[]")
