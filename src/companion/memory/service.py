"""The memory service: ``MemoryPort`` for the turn pipeline plus the user's controls."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, any_, bindparam, delete, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from companion.conversation.ports import ResetMark, RetrievedMemory, ShortTermTurn, TurnRecord
from companion.errors import InvalidInput, NotFound
from companion.llm.base import Embedder
from companion.memory import store
from companion.memory.chunking import as_data
from companion.memory.documents import DocumentStore
from companion.memory.export import export_user
from companion.memory.facts_writer import content_hash
from companion.memory.forgetting import forget_memories
from companion.memory.importer import ImportMessage, ImportResult, import_history
from companion.memory.models import Document, Memory, MemoryAccess, MemoryConflict
from companion.memory.retrieval import Retriever
from companion.memory.search import Hit, SearchFilters
from companion.memory.writer import MemoryWriter, ShortTermBuffer, turn_contexts
from companion.store import driver
from companion.store.accounts import erase_user_rows
from companion.store.database import Database
from companion.store.kv import LockHold
from companion.store.models import Conversation
from companion.store.repositories.recent import recent_turns

__all__ = ["MemoryService", "source_ids"]

log = logging.getLogger(__name__)


def source_ids(external: Sequence[str], internal: Sequence[int]) -> list[str]:
    """Provenance as external message ids, or our message ids where none exist."""
    return list(dict.fromkeys(external)) or [str(i) for i in dict.fromkeys(internal)]


#: The access statistics of the memories a turn retrieved: one statement whatever their
#: number (an array parameter, not an IN list of as many parameters), built once. They
#: live in ``memory_access``, not in ``memories``: a count there rewrote the ~2 kB
#: memory row and, off its page, added an entry to each of its indexes, the HNSW graph
#: among them (``companion.memory.models.access``).
_ACCESSED_TABLE = cast(Table, MemoryAccess.__table__)
_ACCESSED = driver.DriverStatement(
    "the access statistics of retrieved memories",
    pg_insert(_ACCESSED_TABLE)
    .from_select(
        ["user_id", "memory_id", "access_count", "last_accessed"],
        # Through ``memories``: only the owner's rows, and none forgotten meanwhile.
        select(Memory.user_id, Memory.id, literal(1), func.now()).where(
            Memory.user_id == bindparam("owner"),
            Memory.id == any_(bindparam("ids", type_=ARRAY(PG_UUID(as_uuid=True)))),
        ),
    )
    .on_conflict_do_update(
        index_elements=["user_id", "memory_id"],
        set_={
            "access_count": _ACCESSED_TABLE.c.access_count + 1,
            "last_accessed": func.now(),
            "recency_score": 1.0,  # retrieved now (``memory.jobs.recency_decay``)
        },
    ),
)


class MemoryService:
    """Implements ``companion.conversation.ports.MemoryPort`` and the user controls."""

    def __init__(
        self,
        db: Database,
        *,
        writer: MemoryWriter,
        retriever: Retriever,
        buffer: ShortTermBuffer,
        embedder: Embedder | None,
    ) -> None:
        self._db, self.writer, self.retriever, self.buffer = db, writer, retriever, buffer
        self.documents = DocumentStore(db, writer)
        self._embedder = embedder

    # -- MemoryPort -----------------------------------------------------------------

    async def retrieve(self, *, user_id: str, query: str, k: int = 6) -> list[RetrievedMemory]:
        """The k most useful current memories for the prompt (documents wrapped as data)."""
        # The access statistics go on the search's own connection (one checkout, not
        # two); one statement, so autocommit (no BEGIN, no COMMIT).
        async with self.retriever.reader() as reader:
            hits = await self.retriever.search(
                user_id=user_id, query=query, k=k, reader=reader, beside_embedding=False
            )
            if hits:
                async with reader.use() as conn:
                    await driver.execute(
                        conn, _ACCESSED, {"owner": user_id, "ids": [h.id for h in hits]}
                    )
        names = await self.documents.names(user_id, [h.document_id for h in hits if h.document_id])
        return [self._retrieved(h, names) for h in hits]

    @staticmethod
    def _retrieved(hit: Hit, names: dict[uuid.UUID, str]) -> RetrievedMemory:
        content = hit.content
        if hit.document_id is not None:
            content = as_data(names.get(hit.document_id, "document"), content)
        return RetrievedMemory(
            id=str(hit.id), content=content, memory_type=hit.memory_type,
            score=round(hit.score, 4), reason=", ".join(hit.reasons), created_at=hit.created_at,
            valid_from=hit.valid_from, invalid_at=hit.invalid_at,
            source_message_ids=source_ids(hit.source_external_ids, hit.source_message_ids),
        )  # fmt: skip

    async def short_term(
        self, *, user_id: str, conversation_id: uuid.UUID, reset: ResetMark | None = None
    ) -> list[ShortTermTurn]:
        """The last turns of the conversation since its last reset, oldest first.

        From the buffer in the key-value store; when it has nothing (a restart without
        Redis, an expired or evicted buffer, Redis down), from the stored messages.
        ``reset``: the reset time as the caller read it this turn (else read here); with
        it and a full buffer, no database round trip at all.
        """
        if reset is not None:
            turns = await self.buffer.read(user_id, conversation_id, since=reset.at)
            if turns:
                return turns
        async with self._db.session() as session:
            if reset is None:
                reset_at = await session.scalar(
                    select(Conversation.short_term_reset_at).where(
                        Conversation.id == conversation_id, Conversation.user_id == user_id
                    )
                )
                turns = await self.buffer.read(user_id, conversation_id, since=reset_at)
                if turns:
                    return turns
            else:
                reset_at = reset.at
            lines = await recent_turns(
                session,
                user_id=user_id,
                conversation_id=conversation_id,
                since=reset_at,
                limit=self.buffer.keep,
            )
        return [ShortTermTurn(role=role, content=content) for role, content in lines]  # type: ignore[arg-type]

    def carried(self, lines: int) -> int:
        """Of ``lines`` short-term lines read now, how many the next turn reads too."""
        return self.buffer.carried(lines)

    async def note_turn(self, record: TurnRecord, *, release: LockHold | None = None) -> None:
        """Add the stored turn to the short-term buffer (a flagged turn never enters it),
        giving back ``release`` (the turn's lock) in the same round trip where it can."""
        if record.flagged:
            return
        await self.buffer.push_lines(
            record.user_id,
            record.conversation_id,
            [("user", record.user_text), ("assistant", record.reply_text)],
            record.created_at,
            release=release,
        )

    async def remember_turn(self, record: TurnRecord) -> None:
        """Queued work: episodic memory and facts, once per turn (skipped if flagged).

        Failures propagate, so the queue retries; the writer skips a turn it already
        stored, so a retry never duplicates memories.
        """
        (outcome,) = await self.remember_turns([record])
        if outcome is not None:
            raise outcome

    async def remember_turns(self, records: Sequence[TurnRecord]) -> list[Exception | None]:
        """``remember_turn`` for several turns at once (the queue's batches): one read
        of their context, one embedding batch, a transaction per turn; each turn's
        outcome (``None``: stored, or nothing to store)."""
        live = [r for r in records if not r.flagged]
        for record in records:
            if record.flagged:
                log.info("flagged turn not stored as memory", extra={"user_id": record.user_id})
        outcomes: dict[int, Exception | None] = {}
        if live:
            async with self._db.session() as session:
                contexts = await turn_contexts(session, live, limit=self.buffer.keep // 2)
            todo = [(r, c) for r, c in zip(live, contexts, strict=True) if not c.stored]
            results = await self.writer.remember_many(
                [(r, c.recent_user_text, c.previous) for r, c in todo]
            )
            for (record, _), result in zip(todo, results, strict=True):
                outcomes[id(record)] = result
                if result is not None:
                    # The queue retries it; the metric counts a failed write as one.
                    log.warning(
                        "storing the turn's memories failed", extra={"user_id": record.user_id}
                    )
        return [outcomes.get(id(r)) for r in records]

    # -- search, list, get --------------------------------------------------------------

    async def search(
        self, *, user_id: str, query: str, k: int = 10, filters: SearchFilters | None = None
    ) -> list[Hit]:
        """Hybrid search with filters (the API's ``/memory/search``)."""
        if not query.strip():
            raise InvalidInput("query: must not be empty")
        if not 1 <= k <= 50:
            raise InvalidInput("k: must be between 1 and 50")
        return await self.retriever.search(user_id=user_id, query=query, k=k, filters=filters)

    async def list_memories(
        self,
        *,
        user_id: str,
        memory_type: str | None = None,
        include_superseded: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Memory], int]:
        """A page of the user's memories, newest first, and the total count."""
        where = [Memory.user_id == user_id]
        if memory_type is not None:
            where.append(Memory.memory_type == memory_type)
        if not include_superseded:
            where.append(Memory.invalid_at.is_(None))
        async with self._db.session() as session:
            total = await session.scalar(select(func.count()).select_from(Memory).where(*where))
            rows = await session.scalars(
                select(Memory).where(*where).order_by(Memory.created_at.desc(), Memory.id)
                .limit(limit).offset(offset)
            )  # fmt: skip
            return list(rows.all()), int(total or 0)

    async def get(self, *, user_id: str, memory_id: uuid.UUID) -> Memory:
        """One memory of the user (another user's id reads as not found)."""
        async with self._db.session() as session:
            row = await session.scalar(
                select(Memory).where(Memory.id == memory_id, Memory.user_id == user_id)
            )
        if row is None:
            raise NotFound(f"memory {memory_id} not found")
        return row

    async def history(self, *, user_id: str, fact_key: str) -> list[Memory]:
        """Every version of a fact, oldest first (superseded ones included)."""
        async with self._db.session() as session:
            rows = await session.scalars(
                select(Memory).where(Memory.user_id == user_id, Memory.fact_key == fact_key)
                .order_by(Memory.valid_from, Memory.created_at)
            )  # fmt: skip
            return list(rows.all())

    # -- user control -------------------------------------------------------------------

    async def correct(self, *, user_id: str, memory_id: uuid.UUID, content: str) -> Memory:
        """A correction is a new version that supersedes the old one (both kept)."""
        content = content.strip()
        if not content:
            raise InvalidInput("content: must not be empty")
        old = await self.get(user_id=user_id, memory_id=memory_id)
        (vector,) = await self.writer.embed([content])
        now = datetime.now(UTC)
        kind = "semantic" if old.memory_type == "episodic" else old.memory_type
        row: dict[str, Any] = {
            "user_id": user_id, "memory_type": kind,
            "content": content, "content_hash": content_hash(content), "embedding": vector,
            "importance": max(old.importance, 0.6), "speaker": old.speaker,
            "conversation_id": old.conversation_id, "source_message_ids": old.source_message_ids,
            "source_external_ids": old.source_external_ids, "source_memory_ids": [old.id],
            "fact_key": old.fact_key, "confidence": 1.0, "valid_from": now,
            "document_id": old.document_id, "chunk_index": old.chunk_index,
            "extra": {**old.extra, "method": "user_correction"},
        }  # fmt: skip
        async with self._db.transaction() as session:
            (new_id,) = await store.insert_memories(session, [row])
            await store.close_fact(session, user_id=user_id, old=old.id, new=new_id, at=now)
            await store.record_conflict(
                session, user_id=user_id, old=old.id, new=new_id, method="user_clarification",
                description=f"{old.content!r} corrected by the user to {content!r}", confidence=1.0,
            )  # fmt: skip
        return await self.get(user_id=user_id, memory_id=new_id)

    async def forget(self, *, user_id: str, memory_id: uuid.UUID) -> dict[str, int]:
        """Delete one memory for good, with what derives only from it (see ``forgetting``).

        An explicit request, unlike a contradiction (which keeps the old fact, closed).
        Returns the counts: memories, derived_facts, summaries, conflicts.
        """
        async with self._db.transaction() as session:
            counts = await forget_memories(session, user_id=user_id, memory_ids=[memory_id])
            if counts.memories == 0:
                raise NotFound(f"memory {memory_id} not found")
        return counts.to_dict()

    async def forget_all(self, *, user_id: str) -> dict[str, int]:
        """Delete every memory, document, conflict and short-term buffer of the user."""
        async with self._db.transaction() as session:
            counts = {}
            for model in (MemoryConflict, Memory, Document):
                result = await session.execute(delete(model).where(model.user_id == user_id))
                counts[model.__tablename__] = int(result.rowcount)  # type: ignore[attr-defined]
        counts["short_term"] = await self.buffer.clear(user_id)
        return counts

    async def clear(self, *, user_id: str, conversation_id: uuid.UUID | None = None) -> int:
        """``POST /memory/clear`` (DECISIONS.md#memory-clear-scope).

        With ``conversation_id``: the memories that came from that conversation (its
        episodic memories and the facts extracted from it, via ``conversation_id`` on
        each row) plus its short-term buffer, and what derives only from them (summaries
        that used them are rebuilt); facts the user stated elsewhere stay. Without:
        every memory of the user. Returns the number of memory rows deleted.
        """
        where = [Memory.user_id == user_id]
        if conversation_id is not None:
            where.append(Memory.conversation_id == conversation_id)
        async with self._db.transaction() as session:
            ids = (await session.scalars(select(Memory.id).where(*where))).all()
            counts = await forget_memories(session, user_id=user_id, memory_ids=ids)
        await self.buffer.clear(user_id, conversation_id)
        return counts.memories + counts.derived_facts + counts.summaries

    async def delete_user(self, *, user_id: str) -> None:
        """Delete the user and everything they own (benchmarks' clean-up; admin tools)."""
        async with self._db.transaction() as session:
            await erase_user_rows(session, user_id=user_id)
        await self.buffer.clear(user_id)

    async def reset_short_term(self, *, user_id: str, conversation_id: uuid.UUID) -> None:
        """Forget the conversation's short-term buffer (``/conversation/reset``)."""
        await self.buffer.clear(user_id, conversation_id)

    async def export(self, *, user_id: str) -> dict[str, Any]:
        """All of the user's data as JSON-ready dicts (no other user's, no secrets).

        Every table's rows, the short-term buffer of each conversation (kept in the
        key-value store, not the database) and ``kept``: how many of each there are.
        """
        async with self._db.session() as session:
            data = await export_user(session, user_id=user_id)
        short_term: dict[str, list[dict[str, str]]] = {}
        for conversation in data["tables"].get("conversations", []):
            turns = await self.buffer.read(user_id, conversation["id"], since=None)
            if turns:
                short_term[str(conversation["id"])] = [
                    {"role": t.role, "content": t.content} for t in turns
                ]
        data["short_term"] = short_term
        kept = {name: len(rows) for name, rows in data["tables"].items() if rows}
        kept["short_term_turns"] = sum(len(turns) for turns in short_term.values())
        data["kept"] = kept
        return data

    async def import_history(
        self, *, user_id: str, conversation: str, messages: Sequence[ImportMessage]
    ) -> ImportResult:
        """Import a history in one transaction (see ``companion.memory.importer``)."""
        return await import_history(
            self._db, self.writer, user_id=user_id, conversation=conversation, messages=messages
        )
