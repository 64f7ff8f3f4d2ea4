"""Outbound messages waiting for a channel process (Discord, Telegram) to send them.

Any process may enqueue (``companion worker`` deciding a proactive message, a gateway);
the bot process of the named ``channel`` claims rows with ``FOR UPDATE SKIP LOCKED``,
sends them and records the outcome. Rows not sent by ``expires_at`` are marked
``expired`` with the reason, never silently dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column, user_id_column

__all__ = ["DELIVERY_STATUSES", "OutboundDelivery"]

#: pending → sending → delivered | failed | expired (a failed attempt goes back to pending).
DELIVERY_STATUSES = ("pending", "sending", "delivered", "failed", "expired")


class OutboundDelivery(Base):
    """One message for one user on one channel, and what became of it."""

    __tablename__ = "outbound_deliveries"
    __table_args__ = (
        Index(
            "ix_outbound_deliveries_due",
            "channel",
            "available_at",
            postgresql_where="status IN ('pending', 'sending')",
        ),
        Index("ix_outbound_deliveries_user_time", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = user_id_column()
    channel: Mapped[str] = mapped_column(String(30), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False, server_default="proactive")
    text: Mapped[str] = mapped_column(Text, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    decision_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    available_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    via: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(Text)
