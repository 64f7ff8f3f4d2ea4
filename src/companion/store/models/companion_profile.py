"""The companion a user talks to: its name, preset and fixed Big Five."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column

__all__ = ["CompanionProfile"]

_TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")


class CompanionProfile(Base):
    """One companion per user; the Big Five never change after creation."""

    __tablename__ = "companions"
    __table_args__ = tuple(
        CheckConstraint(f"{t} BETWEEN 0 AND 1", name=f"{t}_range") for t in _TRAITS
    )

    user_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False, server_default="Companion")
    preset: Mapped[str] = mapped_column(
        String(50), nullable=False, server_default="curious_companion"
    )
    openness: Mapped[float] = mapped_column(Float, nullable=False)
    conscientiousness: Mapped[float] = mapped_column(Float, nullable=False)
    extraversion: Mapped[float] = mapped_column(Float, nullable=False)
    agreeableness: Mapped[float] = mapped_column(Float, nullable=False)
    neuroticism: Mapped[float] = mapped_column(Float, nullable=False)
    style_speed: Mapped[str] = mapped_column(String(10), nullable=False, server_default="medium")
    #: The character card the persona was imported from (``personality.cards``), if any.
    card: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[datetime] = created_at_column()
