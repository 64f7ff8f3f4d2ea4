"""Versioned personality state: one row per change, exactly one current row per companion."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Float, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, companion_id_column, created_at_column, user_id_column

__all__ = ["PersonalityState"]

_BIG_FIVE = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
_PAD = ("pleasure", "arousal", "dominance")


class PersonalityState(Base):
    """Big Five (fixed), PAD mood and baseline at one moment (DECISIONS.md#one-current-row)."""

    __tablename__ = "personality_state"
    __table_args__ = (
        *(CheckConstraint(f"{t} BETWEEN 0 AND 1", name=f"{t}_range") for t in _BIG_FIVE),
        *(CheckConstraint(f"{p} BETWEEN -1 AND 1", name=f"{p}_range") for p in _PAD),
        Index(
            "ux_personality_state_current",
            "companion_id",
            unique=True,
            postgresql_where=text("is_current"),
        ),
        Index("ix_personality_state_timeline", "companion_id", "timestamp"),
        Index("ix_personality_state_pad_baseline", "pad_baseline", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    timestamp: Mapped[datetime] = created_at_column()
    user_id: Mapped[str] = user_id_column()
    companion_id: Mapped[int] = companion_id_column()
    openness: Mapped[float] = mapped_column(nullable=False)
    conscientiousness: Mapped[float] = mapped_column(nullable=False)
    extraversion: Mapped[float] = mapped_column(nullable=False)
    agreeableness: Mapped[float] = mapped_column(nullable=False)
    neuroticism: Mapped[float] = mapped_column(nullable=False)
    pleasure: Mapped[float] = mapped_column(Float, nullable=False)
    arousal: Mapped[float] = mapped_column(Float, nullable=False)
    dominance: Mapped[float] = mapped_column(Float, nullable=False)
    pad_baseline: Mapped[dict[str, Any]] = mapped_column(
        JSONB,
        nullable=False,
        server_default='{"pleasure": 0.0, "arousal": 0.0, "dominance": 0.0}',
    )
    emotion_label: Mapped[str | None] = mapped_column(String(50))
    is_current: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    session_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    trigger_event: Mapped[str | None] = mapped_column(String(100))
