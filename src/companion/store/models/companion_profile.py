"""A companion a person talks to: its name, preset and fixed Big Five.

A person may have several companions; exactly one of them is active (a partial unique
index), and the turn pipeline, proactive messages and the personality reads use it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column

__all__ = ["CompanionProfile"]

_TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")


class CompanionProfile(Base):
    """One of a person's companions; the Big Five never change after creation."""

    __tablename__ = "companions"
    __table_args__ = (
        *(CheckConstraint(f"{t} BETWEEN 0 AND 1", name=f"{t}_range") for t in _TRAITS),
        Index("ux_companions_active", "user_id", unique=True, postgresql_where=text("is_active")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: The one companion of the person that answers them (exactly one per person).
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    #: A private companion's memories are visible to it alone (others share them).
    is_private: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
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
