"""Per-user documents: upload (chunk, embed, store as ``document`` memories), list, delete."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select

from companion.errors import InvalidInput, NotFound
from companion.memory import store
from companion.memory.chunking import chunk_text
from companion.memory.facts_writer import content_hash
from companion.memory.models import Document
from companion.memory.writer import MemoryWriter
from companion.store.database import Database
from companion.store.repositories import users

__all__ = ["MAX_DOCUMENT_CHARS", "DocumentStore"]

#: 2 MB of text: a book chapter, not a library.
MAX_DOCUMENT_CHARS = 2_000_000


class DocumentStore:
    """Documents of one user at a time; their chunks are retrievable memories."""

    def __init__(self, db: Database, writer: MemoryWriter) -> None:
        self._db, self._writer = db, writer

    async def upload(
        self, *, user_id: str, name: str, text: str, content_type: str = "text"
    ) -> Document:
        """Chunk with overlap, embed in one batch, store; the document row and chunks."""
        name = name.strip()
        if not name or len(name) > 255:
            raise InvalidInput("name: must be 1-255 characters")
        if content_type not in ("text", "markdown"):
            raise InvalidInput("content_type: must be 'text' or 'markdown'")
        if not text.strip():
            raise InvalidInput("text: the document is empty")
        if len(text) > MAX_DOCUMENT_CHARS:
            raise InvalidInput(f"text: longer than {MAX_DOCUMENT_CHARS} characters")
        chunks = chunk_text(text)
        vectors = await self._writer.embed(chunks)
        document = Document(
            id=uuid.uuid4(), user_id=user_id, name=name, content_type=content_type,
            content_hash=content_hash(text), chunk_count=len(chunks),
        )  # fmt: skip
        async with self._db.transaction() as session:
            await users.ensure_user(session, user_id=user_id)
            session.add(document)
            await session.flush()
            rows = [
                {
                    "user_id": user_id, "memory_type": "document", "content": chunk,
                    "content_hash": content_hash(chunk), "embedding": vector,
                    "importance": 0.5, "document_id": document.id, "chunk_index": index,
                    "extra": {"document_name": name},
                }
                for index, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True))
            ]  # fmt: skip
            await store.insert_memories(session, rows)
        return document

    async def list(self, *, user_id: str) -> list[Document]:
        """The user's documents, newest first."""
        async with self._db.session() as session:
            rows = await session.scalars(
                select(Document)
                .where(Document.user_id == user_id)
                .order_by(Document.uploaded_at.desc())
            )
            return list(rows.all())

    async def delete(self, *, user_id: str, document_id: uuid.UUID) -> None:
        """Delete a document and (by cascade) its chunks."""
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(Document).where(Document.id == document_id, Document.user_id == user_id)
            )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"document {document_id} not found")

    async def names(self, user_id: str, ids: Sequence[uuid.UUID | None]) -> dict[uuid.UUID, str]:
        """Document names by id (for wrapping chunks as data)."""
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        async with self._db.session() as session:
            rows = await session.execute(
                select(Document.id, Document.name).where(
                    Document.user_id == user_id, Document.id.in_(wanted)
                )
            )
            return {row.id: row.name for row in rows}
