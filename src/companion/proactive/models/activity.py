"""Each user's activity pattern, cached for the proactive score (15-minute TTL).

Refreshed for all users by one statement (``proactive.patterns``); the 5-minute pass
reads this small table instead of scanning 30 days of interactions every time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base

__all__ = ["ProactiveActivity"]


class ProactiveActivity(Base):
    """30-day histograms by local hour and ISO weekday, and 7-day interaction stats."""

    __tablename__ = "proactive_activity"

    user_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    #: ``{"0": 3, "19": 12, …}`` by local hour; ``{"1": 4, … "7": 2}`` by ISO weekday.
    hour_counts: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    day_counts: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    hour_max: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    day_max: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    samples: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_activity: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_starts_7d: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    companion_starts_7d: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    avg_conversation_length: Mapped[float | None] = mapped_column(Float)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
