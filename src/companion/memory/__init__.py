"""Memory domain: episodic, semantic (facts kept in time) and document memory.

Public API: ``build_memory(runtime)`` builds the ``MemoryService`` (the pipeline's
``MemoryPort`` plus the user's controls); ``jobs`` holds the nightly functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion.memory.importer import ImportMessage, ImportResult
from companion.memory.search import Hit, SearchFilters
from companion.memory.service import MemoryService, source_ids

if TYPE_CHECKING:
    from companion.runtime import Runtime

__all__ = [
    "Hit",
    "ImportMessage",
    "ImportResult",
    "MemoryService",
    "SearchFilters",
    "build_memory",
    "source_ids",
]


async def build_memory(runtime: Runtime) -> MemoryService:
    """The memory service on the runtime's database, key-value store and models.

    Without an embedder (models not configured) it still works: keyword search only,
    memories stored without vectors until ``companion reembed``.
    """
    from companion.memory.retrieval import Retriever
    from companion.memory.writer import MemoryWriter, ShortTermBuffer

    models = runtime.models
    embedder = getattr(models, "embedder", None)
    fast = getattr(models, "fast", None)
    behaviour = runtime.settings.behaviour
    buffer = ShortTermBuffer(
        runtime.kv, keep=behaviour.short_term_turns * 2, ttl=behaviour.short_term_ttl_seconds
    )
    writer = MemoryWriter(runtime.db, embedder, runtime.kv, fast)
    return MemoryService(
        runtime.db,
        writer=writer,
        retriever=Retriever(runtime.db, embedder),
        buffer=buffer,
        embedder=embedder,
    )
