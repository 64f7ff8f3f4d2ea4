"""The record of one turn (the Discord design's columns, memory ids and a snapshot FK)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column, user_id_column

__all__ = ["Interaction"]


class Interaction(Base):
    """A user message and the companion's reply, with mood, memory and model bookkeeping."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_user_recent", "user_id", "timestamp"),
        Index("ix_interactions_session", "session_id"),
        # The flagged turns of a conversation, whose lines are never replayed nor
        # remembered: rare, so each "is this line's turn flagged?" probe reads one page
        # instead of the conversation's every interaction (migration 0019).
        Index(
            "ix_interactions_flagged", "session_id", postgresql_where="NOT security_check_passed"
        ),
        Index(
            "ix_interactions_proactive",
            "user_id",
            "is_proactive",
            "timestamp",
            postgresql_where="is_proactive",
        ),
        # Two GIN indexes (DECISIONS.md#two-gin-indexes).
        Index("ix_interactions_pad_before", "pad_before", postgresql_using="gin"),
        Index("ix_interactions_pad_after", "pad_after", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    timestamp: Mapped[datetime] = created_at_column()
    user_id: Mapped[str] = user_id_column()
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("conversations.id", ondelete="SET NULL")
    )
    user_message_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("messages.id", ondelete="SET NULL")
    )
    reply_message_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("messages.id", ondelete="SET NULL")
    )
    channel: Mapped[str] = mapped_column(String(30), nullable=False, server_default="api")
    user_message: Mapped[str | None] = mapped_column(Text)
    agent_response: Mapped[str] = mapped_column(Text, nullable=False)
    personality_snapshot_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("personality_state.id", ondelete="SET NULL")
    )
    pad_before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    pad_after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    emotion_before: Mapped[str | None] = mapped_column(String(50))
    emotion_after: Mapped[str | None] = mapped_column(String(50))
    response_time_ms: Mapped[int | None] = mapped_column(Integer)
    token_count: Mapped[int | None] = mapped_column(Integer)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    llm_model_used: Mapped[str | None] = mapped_column(String(200))
    llm_provider: Mapped[str | None] = mapped_column(String(100))
    is_proactive: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    proactive_trigger: Mapped[str | None] = mapped_column(String(100))
    proactive_score: Mapped[float | None] = mapped_column(Float)
    memories_retrieved: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    memories_stored: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    memory_ids: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), nullable=False, server_default="{}"
    )
    error_occurred: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    error_message: Mapped[str | None] = mapped_column(Text)
    fallback_used: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    security_check_passed: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="true"
    )
    security_threat_detected: Mapped[str | None] = mapped_column(String(100))
    security_confidence: Mapped[float | None] = mapped_column(Float)
    user_initiated: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    conversation_length: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    user_satisfaction_implied: Mapped[float | None] = mapped_column(Float)
    #: ``started`` while the reply is generated, then ``complete``, or ``interrupted``
    #: (the reply was cut short: the client left with stop-on-disconnect, or the
    #: process stopped mid-turn and a worker recovered the turn).
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="complete")
