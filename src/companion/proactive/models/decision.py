"""Every proactive evaluation: score, factors, decision, reason, thought and delivery."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column, user_id_column

__all__ = ["ProactiveDecision"]


class ProactiveDecision(Base):
    """One evaluation of whether to reach out to a user, and what happened next."""

    __tablename__ = "proactive_decisions"
    __table_args__ = (
        Index("ix_proactive_decisions_user_time", "user_id", "evaluated_at"),
        Index(
            "ix_proactive_decisions_sent",
            "user_id",
            "sent_at",
            postgresql_where="sent_at IS NOT NULL",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = user_id_column()
    evaluated_at: Mapped[datetime] = created_at_column()
    score: Mapped[float] = mapped_column(Float, nullable=False)
    factors: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    should_initiate: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    blocked_by: Mapped[str | None] = mapped_column(String(50))
    thought: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    message: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(30))
    delivery_status: Mapped[str | None] = mapped_column(String(30))
    delivery_detail: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    declined: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    declined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: ``scheduled`` (the periodic check) or ``manual`` (POST /api/proactive/{user_id}).
    source: Mapped[str] = mapped_column(String(20), nullable=False, server_default="scheduled")
