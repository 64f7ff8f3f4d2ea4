"""How often and when a memory was last retrieved, kept apart from the memory itself.

Every turn that retrieves memories counts it. Written into ``memories``, each count was
a new version of a ~2 kB row (its vector, full text and context) and, whenever the old
version's page had no room for it (a non-HOT update), a new entry in each of the
table's eight indexes, the HNSW graph among them: an HNSW insert walks hundreds of
graph pages. A narrow row of its own is updated in place on its page (a HOT update: no
index entry at all) and its WAL record is a few dozen bytes (migration 0018). The
nightly recency job writes its score here for the same reason (migration 0019).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from companion.store.base import Base

__all__ = ["MemoryAccess"]


class MemoryAccess(Base):
    """A retrieved memory's access count and last retrieval (no row: never retrieved)."""

    __tablename__ = "memory_access"
    # Room on each page for the next version of its rows, so an update stays HOT.
    __table_args__ = {"postgresql_with": {"fillfactor": 80}}

    #: In the key, so the table can be distributed by user (Citus) like the others.
    user_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    memory_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("memories.id", ondelete="CASCADE"),
        primary_key=True,
    )
    access_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_accessed: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    #: ``0.5 ** (days since the last access / 30)``, lowered by the nightly recency job
    #: (``memory.jobs.recency_decay``); 1 when retrieved. Retrieval does not read it: it
    #: weighs each memory by its age at read time (migration 0019).
    recency_score: Mapped[float] = mapped_column(Float, nullable=False, server_default="1.0")
