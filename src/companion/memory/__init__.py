"""Memory domain: episodic, semantic (facts kept in time) and document memory.

Public API: ``build_memory(...)`` builds the ``MemoryService`` (the pipeline's
``MemoryPort`` plus the user's controls); ``jobs`` holds the nightly functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion.memory.importer import ImportMessage, ImportResult
from companion.memory.search import Hit, SearchFilters
from companion.memory.service import MemoryService, source_ids

if TYPE_CHECKING:
    from companion.llm.models import Models
    from companion.settings import BehaviourSettings
    from companion.store.database import Database
    from companion.store.kv import KeyValueStore

__all__ = [
    "Hit",
    "ImportMessage",
    "ImportResult",
    "MemoryService",
    "SearchFilters",
    "build_memory",
    "source_ids",
]


async def build_memory(
    *, settings: BehaviourSettings, db: Database, kv: KeyValueStore, models: Models | None
) -> MemoryService:
    """The memory service on a database, a key-value store and the models.

    Without an embedder (models not configured) it still works: keyword search only,
    memories stored without vectors until ``companion reembed``.
    """
    from companion.memory.retrieval import Retriever
    from companion.memory.writer import MemoryWriter, ShortTermBuffer

    embedder = getattr(models, "embedder", None)
    fast = getattr(models, "fast", None)
    buffer = ShortTermBuffer(
        kv, keep=settings.short_term_turns * 2, ttl=settings.short_term_ttl_seconds
    )
    writer = MemoryWriter(db, embedder, kv, fast)
    return MemoryService(
        db,
        writer=writer,
        retriever=Retriever(db, embedder),
        buffer=buffer,
        embedder=embedder,
    )
