"""A memory: episodic (a turn), semantic (a fact, kept in time) or a document chunk."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, companion_id_column, created_at_column, user_id_column
from companion.store.vector import Vector

__all__ = ["MEMORY_TYPES", "Memory"]

MEMORY_TYPES = ("episodic", "semantic", "document")


class Memory(Base):
    """One retrievable memory with its vector, full-text vector, provenance and validity.

    A semantic fact is current while ``invalid_at`` is NULL; a contradiction sets
    ``invalid_at`` and ``superseded_by`` and never deletes the row. Memories belong to
    the person and are shared by all their companions, except those written while a
    private companion was talking: ``companion_id`` marks them as that companion's alone.
    """

    __tablename__ = "memories"
    __table_args__ = (
        CheckConstraint(
            "memory_type IN ('episodic','semantic','document')", name="memory_type_valid"
        ),
        CheckConstraint("importance BETWEEN 0 AND 1", name="importance_range"),
        Index("ix_memories_user_type_time", "user_id", "memory_type", "created_at"),
        # companion_id in the key: a search counts the user's visible current rows from
        # the index alone (migration 0017).
        Index(
            "ix_memories_user_visible",
            "user_id",
            "companion_id",
            postgresql_where="invalid_at IS NULL",
        ),
        # A short pending list: every search reads all of it (migration 0017).
        Index(
            "ix_memories_user_tsv",
            "user_id",
            "tsv",
            postgresql_using="gin",
            postgresql_with={"gin_pending_list_limit": 64},
        ),
        # "Is this turn's episodic memory stored?" by its user message id (migration 0019).
        Index(
            "ix_memories_episodic_sources",
            "source_message_ids",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
            postgresql_where="memory_type = 'episodic'",
        ),
        Index("ix_memories_user_conversation", "user_id", "conversation_id"),
        Index("ix_memories_user_fact_key", "user_id", "fact_key"),
        Index("ix_memories_companion", "companion_id", postgresql_where="companion_id IS NOT NULL"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[str] = user_id_column()
    #: Set only for a private companion's memories (NULL: shared by all the person's companions).
    companion_id: Mapped[int | None] = companion_id_column(nullable=True)
    memory_type: Mapped[str] = mapped_column(String(16), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    embedding: Mapped[list[float] | None] = mapped_column(Vector())
    #: What the turn was said in (date, neighbour turns): searched, never shown.
    context: Mapped[str | None] = mapped_column(Text)
    tsv: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('english', content), 'A') || "
            "setweight(to_tsvector('english', coalesce(context, '')), 'B')",
            persisted=True,
        ),
    )
    importance: Mapped[float] = mapped_column(Float, nullable=False, server_default="0.5")
    #: How often it was retrieved, when last, and its recency score: ``MemoryAccess``, a
    #: table of its own (an update here rewrites the whole row and its index entries).
    created_at: Mapped[datetime] = created_at_column()
    speaker: Mapped[str | None] = mapped_column(String(100))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("conversations.id", ondelete="SET NULL")
    )
    source_message_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), nullable=False, server_default="{}"
    )
    source_external_ids: Mapped[list[str]] = mapped_column(
        ARRAY(String(200)), nullable=False, server_default="{}"
    )
    source_memory_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"
    )
    emotion_context: Mapped[str | None] = mapped_column(String(50))
    pad: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    fact_key: Mapped[str | None] = mapped_column(String(200))
    confidence: Mapped[float | None] = mapped_column(Float)
    valid_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    invalid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    superseded_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("memories.id", ondelete="SET NULL")
    )
    event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id", ondelete="CASCADE")
    )
    chunk_index: Mapped[int | None] = mapped_column(Integer)
    consolidated_into: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    extra: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default="{}"
    )
