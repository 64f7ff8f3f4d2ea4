"""Memory: memories with pgvector (HNSW, cosine) and tsvector, documents, conflicts (with user_id).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import pgvector.sqlalchemy
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _vector_dimensions() -> int:
    """The embedder's dimension, passed in by ``companion.store.migrate``."""
    config = op.get_context().config
    attributes = config.attributes if config is not None else {}
    return int(attributes.get("vector_dimensions", 384))


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    dimensions = _vector_dimensions()
    op.create_table(
        "documents",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=50), server_default="text", nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("chunk_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "uploaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_documents_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(op.f("ix_documents_user_id"), "documents", ["user_id"], unique=False)
    op.create_table(
        "memories",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("memory_type", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("embedding", pgvector.sqlalchemy.vector.VECTOR(dimensions), nullable=True),
        sa.Column(
            "tsv",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english', content)", persisted=True),
            nullable=False,
        ),
        sa.Column("importance", sa.Float(), server_default="0.5", nullable=False),
        sa.Column("recency_score", sa.Float(), server_default="1.0", nullable=False),
        sa.Column("access_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_accessed", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("speaker", sa.String(length=100), nullable=True),
        sa.Column("conversation_id", sa.UUID(), nullable=True),
        sa.Column(
            "source_message_ids",
            postgresql.ARRAY(sa.BigInteger()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "source_external_ids",
            postgresql.ARRAY(sa.String(length=200)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "source_memory_ids", postgresql.ARRAY(sa.UUID()), server_default="{}", nullable=False
        ),
        sa.Column("emotion_context", sa.String(length=50), nullable=True),
        sa.Column("pad", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("fact_key", sa.String(length=200), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invalid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_by", sa.UUID(), nullable=True),
        sa.Column("event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("document_id", sa.UUID(), nullable=True),
        sa.Column("chunk_index", sa.Integer(), nullable=True),
        sa.Column("consolidated_into", sa.UUID(), nullable=True),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.CheckConstraint(
            "memory_type IN ('episodic','semantic','document')",
            name=op.f("ck_memories_memory_type_valid"),
        ),
        sa.CheckConstraint("importance BETWEEN 0 AND 1", name=op.f("ck_memories_importance_range")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_memories_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_memories_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"],
            ["memories.id"],
            name=op.f("fk_memories_superseded_by_memories"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memories_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memories")),
    )
    op.create_index("ix_memories_tsv", "memories", ["tsv"], unique=False, postgresql_using="gin")
    op.create_index(
        "ix_memories_user_conversation", "memories", ["user_id", "conversation_id"], unique=False
    )
    op.create_index(
        "ix_memories_user_current",
        "memories",
        ["user_id"],
        unique=False,
        postgresql_where="invalid_at IS NULL",
    )
    op.create_index("ix_memories_user_fact_key", "memories", ["user_id", "fact_key"], unique=False)
    op.create_index(
        "ix_memories_user_type_time",
        "memories",
        ["user_id", "memory_type", "created_at"],
        unique=False,
    )
    op.create_table(
        "memory_conflicts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("conflict_type", sa.String(length=50), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("primary_memory_id", sa.String(length=100), nullable=True),
        sa.Column("conflicting_memory_id", sa.String(length=100), nullable=True),
        sa.Column(
            "related_memory_ids",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), server_default="detected", nullable=False),
        sa.Column("resolution_method", sa.String(length=50), nullable=True),
        sa.Column("resolution_notes", sa.Text(), nullable=True),
        sa.Column(
            "detected_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("conversation_context", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("user_notified", sa.Boolean(), server_default="false", nullable=False),
        sa.CheckConstraint(
            "confidence BETWEEN 0 AND 1", name=op.f("ck_memory_conflicts_confidence_range")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_memory_conflicts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memory_conflicts")),
    )
    op.create_index(
        "ix_memory_conflicts_user_status", "memory_conflicts", ["user_id", "status"], unique=False
    )
    # Exact per-user top-k under filtering needs iterative scans (pgvector 0.8);
    # the index itself is cosine HNSW over every row.
    op.execute(
        "CREATE INDEX ix_memories_embedding_hnsw ON memories "
        "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_memories_embedding_hnsw")
    op.drop_index("ix_memory_conflicts_user_status", table_name="memory_conflicts")
    op.drop_table("memory_conflicts")
    op.drop_index("ix_memories_user_type_time", table_name="memories")
    op.drop_index("ix_memories_user_fact_key", table_name="memories")
    op.drop_index(
        "ix_memories_user_current", table_name="memories", postgresql_where="invalid_at IS NULL"
    )
    op.drop_index("ix_memories_user_conversation", table_name="memories")
    op.drop_index("ix_memories_tsv", table_name="memories", postgresql_using="gin")
    op.drop_table("memories")
    op.drop_index(op.f("ix_documents_user_id"), table_name="documents")
    op.drop_table("documents")
