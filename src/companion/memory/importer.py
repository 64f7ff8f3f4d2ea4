"""Importing a conversation history in one transaction (messages, memories, facts).

Thousands of messages work in one request: texts are embedded in background chunks
while the transaction writes, messages and episodic memories are inserted in bulk, and only the
facts (a fraction of the messages) are reconciled one by one, in time order, so a
later statement supersedes an earlier one. Importance and facts take the rule paths:
an LLM call per message would turn an import into an hour.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from companion.errors import InvalidInput
from companion.memory import store
from companion.memory.context import (
    Turn,
    embedding_text,
    mix_neighbours,
    neighbour_contexts,
)
from companion.memory.embed_stream import EmbedStream
from companion.memory.factbook import FactBook
from companion.memory.facts import ExtractedFact, extract_facts, last_entity
from companion.memory.facts_writer import Provenance, content_hash, fact_row
from companion.memory.importance import heuristic_importance
from companion.memory.writer import MemoryWriter
from companion.store.database import Database
from companion.store.models import Conversation, Message
from companion.store.repositories import conversations, users

__all__ = ["ImportMessage", "ImportResult", "import_history"]

#: Turns per background embedding chunk. Small chunks let writing overlap embedding,
#: but on two cores they cost more than they save: the LoCoMo dev import ran at 86
#: messages/s with 64, 120 with 512 and 121 with one chunk per conversation (idle).
_EMBED_CHUNK = 512
#: A pause longer than this between two messages starts a new session (no neighbours across).
SESSION_GAP = timedelta(hours=3)


@dataclass(frozen=True)
class ImportMessage:
    """One message of an imported history."""

    external_id: str
    role: Literal["user", "assistant"]
    speaker: str
    text: str
    timestamp: datetime


@dataclass(frozen=True)
class ImportResult:
    """How many messages were imported and memory rows created."""

    imported: int
    memories_created: int
    conversation_id: uuid.UUID


def _validate(messages: Sequence[ImportMessage]) -> None:
    if not messages:
        raise InvalidInput("messages: at least one message is required")
    seen: set[str] = set()
    for index, msg in enumerate(messages):
        if not msg.text.strip():
            raise InvalidInput(f"messages[{index}].text: must not be empty")
        if not msg.external_id.strip():
            raise InvalidInput(f"messages[{index}].external_id: must not be empty")
        if msg.external_id in seen:
            raise InvalidInput(f"messages[{index}].external_id: duplicate {msg.external_id!r}")
        if msg.timestamp.tzinfo is None:
            raise InvalidInput(f"messages[{index}].timestamp: needs a timezone")
        seen.add(msg.external_id)


def _facts(messages: Sequence[ImportMessage]) -> list[tuple[int, ExtractedFact]]:
    previous: dict[str, str | None] = {}
    found: list[tuple[int, ExtractedFact]] = []
    for index, msg in enumerate(messages):
        speaker = msg.speaker or msg.role
        for fact in extract_facts(
            msg.text, speaker=speaker, at=msg.timestamp, previous_entity=previous.get(speaker)
        ):
            found.append((index, fact))
        previous[speaker] = last_entity(msg.text) or previous.get(speaker)
    return found


def _turns(messages: Sequence[ImportMessage], contents: Sequence[str]) -> list[Turn]:
    """The messages as turns, with a session number that changes after a long pause."""
    turns, session = [], 0
    for i, (msg, content) in enumerate(zip(messages, contents, strict=True)):
        if i and msg.timestamp - messages[i - 1].timestamp > SESSION_GAP:
            session += 1
        turns.append(Turn(content, msg.timestamp, str(session)))
    return turns


async def _conversation(session: AsyncSession, user_id: str, ref: str) -> uuid.UUID:
    try:
        as_uuid = uuid.UUID(ref)
    except ValueError:
        as_uuid = None
    if as_uuid is not None:
        existing = await session.get(Conversation, as_uuid)
        if existing is not None and existing.user_id == user_id:
            return existing.id
    row = await conversations.get_or_create_conversation(
        session, user_id=user_id, external_id=ref, channel="import"
    )
    return row.id


async def _insert_messages(
    session: AsyncSession,
    user_id: str,
    conversation_id: uuid.UUID,
    messages: Sequence[ImportMessage],
) -> list[int]:
    rows = [
        {
            "user_id": user_id, "conversation_id": conversation_id, "role": m.role,
            "speaker": m.speaker, "content": m.text, "external_id": m.external_id,
            "created_at": m.timestamp,
        }
        for m in messages
    ]  # fmt: skip
    result = await session.execute(
        insert(Message).returning(Message.id, sort_by_parameter_order=True), rows
    )
    ids = [row[0] for row in result.all()]
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.user_id == user_id)
        .values(
            message_count=Conversation.message_count + len(rows),
            last_activity=func.greatest(
                Conversation.last_activity, max(m.timestamp for m in messages)
            ),
        )
    )
    return ids


async def import_history(
    db: Database,
    writer: MemoryWriter,
    *,
    user_id: str,
    conversation: str,
    messages: Sequence[ImportMessage],
) -> ImportResult:
    """Import ``messages`` into the user's conversation ``conversation`` (an id or a name).

    All or nothing: any failure rolls back every message and memory of the request.
    """
    _validate(messages)
    ordered = sorted(messages, key=lambda m: m.timestamp)
    contents = [f"{m.speaker}: {m.text}" if m.speaker else m.text for m in ordered]
    turns = _turns(ordered, contents)
    contexts = neighbour_contexts(turns)
    indexed = [embedding_text(c, x) for c, x in zip(contents, contexts, strict=True)]
    # The turns are embedded in the background while the rest is prepared and written.
    stream = EmbedStream(writer.embed, indexed, chunk=_EMBED_CHUNK)
    fact_stream: EmbedStream | None = None
    try:
        facts = _facts(ordered)
        # Queued behind the turns' first chunk, so that they are ready when the turns
        # are written instead of being embedded after the last write.
        fact_stream = EmbedStream(writer.embed, [f.content for _, f in facts], chunk=_EMBED_CHUNK)
        importance = [heuristic_importance(m.text) for m in ordered]
        async with db.transaction() as session:
            await users.ensure_user(session, user_id=user_id)
            conversation_id = await _conversation(session, user_id, conversation)
            message_ids = await _insert_messages(session, user_id, conversation_id, ordered)
            episodic_ids = await _insert_turns(
                session, stream,
                _Turns(user_id, conversation_id, ordered, turns, contexts, importance, message_ids),
            )  # fmt: skip
            fact_vectors = await fact_stream.until(len(facts))
            source = _Sources(ordered, message_ids, episodic_ids, importance, conversation_id)
            created = len(episodic_ids)
            created += await _apply_facts(session, user_id, facts, fact_vectors, source)
    finally:
        await stream.aclose()
        if fact_stream is not None:
            await fact_stream.aclose()
    return ImportResult(len(ordered), created, conversation_id)


@dataclass(frozen=True)
class _Turns:
    user_id: str
    conversation_id: uuid.UUID
    messages: Sequence[ImportMessage]
    turns: Sequence[Turn]
    contexts: Sequence[str]
    importance: Sequence[float]
    message_ids: Sequence[int]

    def row(self, index: int, vector: list[float] | None) -> dict[str, object]:
        m, text = self.messages[index], self.turns[index].content
        return {
            "id": uuid.uuid4(), "user_id": self.user_id, "memory_type": "episodic",
            "content": text, "content_hash": content_hash(text), "embedding": vector,
            "context": self.contexts[index], "importance": self.importance[index],
            "speaker": m.speaker or None, "conversation_id": self.conversation_id,
            "source_message_ids": [self.message_ids[index]],
            "source_external_ids": [m.external_id], "valid_from": m.timestamp,
            "created_at": m.timestamp, "extra": {"role": m.role, "imported": True},
        }  # fmt: skip


async def _insert_turns(
    session: AsyncSession, stream: EmbedStream, turns: _Turns
) -> list[uuid.UUID]:
    """Insert the episodic memories as their vectors arrive, in order.

    A turn's stored vector mixes in its neighbours' (``mix_neighbours``), so a turn is
    written once the vector after it is ready too; the slice passed to the mix holds
    each written turn's neighbours.
    """
    total, done, ids = len(turns.turns), 0, []
    while done < total:
        ready = await stream.until(done + 2)
        stop = total if len(ready) >= total else len(ready) - 1
        lo, hi = max(0, done - 1), min(total, stop + 1)
        mixed = mix_neighbours(turns.turns[lo:hi], ready[lo:hi])[done - lo : stop - lo]
        rows = [turns.row(done + i, vector) for i, vector in enumerate(mixed)]
        ids += await store.insert_memories(session, rows)
        done = stop
    return ids


@dataclass(frozen=True)
class _Sources:
    messages: Sequence[ImportMessage]
    message_ids: Sequence[int]
    episodic_ids: Sequence[uuid.UUID]
    importance: Sequence[float]
    conversation_id: uuid.UUID

    def provenance(self, index: int) -> Provenance:
        msg = self.messages[index]
        return Provenance(
            at=msg.timestamp, message_ids=[self.message_ids[index]],
            external_ids=[msg.external_id], conversation_id=self.conversation_id,
            episodic_id=self.episodic_ids[index], speaker=msg.speaker or None,
            importance=self.importance[index],
        )  # fmt: skip


async def _apply_facts(
    session: AsyncSession,
    user_id: str,
    facts: Sequence[tuple[int, ExtractedFact]],
    vectors: Sequence[list[float] | None],
    sources: _Sources,
) -> int:
    """Reconcile in memory (time order), then write adds, merges and supersessions."""
    book = FactBook(await store.all_current_facts(session, user_id=user_id))
    rows = []
    for (index, fact), vector in zip(facts, vectors, strict=True):
        row = fact_row(fact, vector, sources.provenance(index), user_id)
        decision = book.decide(
            new_id=row["id"], content=fact.content, key=fact.fact_key, vector=vector,
            at=sources.messages[index].timestamp, source_index=index,
        )  # fmt: skip
        if decision.action != "merge":
            rows.append(row)
    await store.insert_memories(session, rows)
    for target, indexes in book.merges.items():
        await store.merge_into(
            session, user_id=user_id, target=target,
            message_ids=[sources.message_ids[i] for i in indexes],
            external_ids=[sources.messages[i].external_id for i in indexes],
            importance=max(sources.importance[i] for i in indexes),
            memory_ids=[sources.episodic_ids[i] for i in indexes],
        )  # fmt: skip
    for change in book.supersessions:
        await store.close_fact(
            session, user_id=user_id, old=change.old, new=change.new, at=change.at
        )
        await store.record_conflict(
            session, user_id=user_id, old=change.old, new=change.new,
            method=f"temporal_precedence:{change.method}",
            description=f"{change.old_content!r} contradicted by {change.new_content!r}",
        )  # fmt: skip
    return len(rows)


def utc(value: datetime) -> datetime:
    """``value`` with UTC assumed when it has no timezone."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
