"""Memory tables: memories (with pgvector and tsvector), their access, documents, conflicts."""

from __future__ import annotations

from companion.memory.models.access import MemoryAccess
from companion.memory.models.conflict import MemoryConflict
from companion.memory.models.document import Document
from companion.memory.models.memory import MEMORY_TYPES, Memory

__all__ = ["MEMORY_TYPES", "Document", "Memory", "MemoryAccess", "MemoryConflict"]
