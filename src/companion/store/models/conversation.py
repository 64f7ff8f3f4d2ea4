"""A conversation: a thread of messages on one channel, optionally with an external id."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column, user_id_column

__all__ = ["Conversation"]


class Conversation(Base):
    """Messages are grouped by conversation; short-term context is per conversation."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("user_id", "external_id", name="uq_conversations_user_external"),
        Index("ix_conversations_user_activity", "user_id", "last_activity"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[str] = user_id_column()
    channel: Mapped[str] = mapped_column(String(30), nullable=False, server_default="api")
    external_id: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime] = created_at_column()
    last_activity: Mapped[datetime] = created_at_column()
    message_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    short_term_reset_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
