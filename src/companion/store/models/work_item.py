"""A unit of durable post-turn work (the transactional outbox of the turn pipeline).

Written in the same transaction as the turn it belongs to; claimed by workers with
``FOR UPDATE SKIP LOCKED`` (see ``companion.jobs.queue``). ``(kind, key)`` is unique, so
enqueueing the same work twice is one item, and a handler is idempotent per key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base, created_at_column, user_id_column

__all__ = ["WORK_STATUSES", "WorkItem"]

#: pending → running → done; or back to pending (retry later); or failed (gave up).
WORK_STATUSES = ("pending", "running", "done", "failed")


class WorkItem(Base):
    """One queued job: what to do (``kind`` + ``key``), when, and how it went."""

    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_work_items_kind_key"),
        Index(
            "ix_work_items_due",
            "run_after",
            postgresql_where=text("status IN ('pending', 'running')"),
        ),
        Index("ix_work_items_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = user_id_column()
    kind: Mapped[str] = mapped_column(String(50), nullable=False)
    key: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    run_after: Mapped[datetime] = created_at_column()
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
