"""Applying extracted facts to the store: add, merge a duplicate, or supersede (I/O)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from companion.memory import store
from companion.memory.facts import ExtractedFact
from companion.memory.reconcile import decide

__all__ = ["FactOutcome", "Provenance", "apply_fact", "content_hash", "fact_row"]


def content_hash(text: str) -> str:
    """SHA-256 of the text (dedup and caches)."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Provenance:
    """Where a fact came from: the turn's message ids, time, conversation and speaker."""

    at: datetime
    message_ids: Sequence[int] = ()
    external_ids: Sequence[str] = ()
    conversation_id: uuid.UUID | None = None
    episodic_id: uuid.UUID | None = None
    speaker: str | None = None
    importance: float = 0.5
    #: The private companion the fact belongs to (``None``: shared by all companions).
    companion_id: int | None = None


@dataclass(frozen=True)
class FactOutcome:
    """What happened to one fact, and the row id: ``add``, ``merge``, ``supersede``, or
    ``outdated`` (stored as a past version: a newer statement contradicting it was
    already current)."""

    action: str
    memory_id: uuid.UUID


def fact_row(
    fact: ExtractedFact, vector: Sequence[float] | None, source: Provenance, user_id: str
) -> dict[str, Any]:
    """The ``memories`` row of a new semantic fact."""
    event_at = (
        datetime.combine(fact.event_day, datetime.min.time(), tzinfo=UTC)
        if fact.event_day
        else None
    )
    return {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "companion_id": source.companion_id,
        "memory_type": "semantic",
        "content": fact.content,
        "content_hash": content_hash(fact.content),
        "embedding": list(vector) if vector is not None else None,
        "importance": max(0.5, min(1.0, source.importance)),
        "speaker": source.speaker,
        "conversation_id": source.conversation_id,
        "source_message_ids": list(source.message_ids),
        "source_external_ids": list(source.external_ids),
        "source_memory_ids": [source.episodic_id] if source.episodic_id else [],
        "fact_key": fact.fact_key,
        "confidence": fact.confidence,
        "valid_from": source.at,
        "event_at": event_at,
        "created_at": source.at,
        "extra": {"kind": fact.kind, "method": "extracted"},
    }


async def apply_fact(
    session: AsyncSession,
    *,
    user_id: str,
    fact: ExtractedFact,
    vector: Sequence[float] | None,
    source: Provenance,
) -> FactOutcome:
    """Reconcile ``fact`` with the user's current facts and write the result.

    A contradiction closes the old fact (``invalid_at`` = the new statement's time,
    ``superseded_by`` = the new row) and records a ``memory_conflicts`` row. Time, not
    arrival, decides which is old: a statement older than the current fact it
    contradicts is stored closed, superseded by that fact.
    """
    existing = await store.current_facts(
        session,
        user_id=user_id,
        fact_key=fact.fact_key,
        vector=vector,
        limit=5,
        companion_id=source.companion_id,
    )
    decision = decide(fact.content, fact.fact_key, vector, existing)
    if decision.action == "merge" and decision.target is not None:
        target = uuid.UUID(decision.target)
        await store.merge_into(
            session,
            user_id=user_id,
            target=target,
            message_ids=source.message_ids,
            external_ids=source.external_ids,
            importance=source.importance,
            memory_ids=[source.episodic_id] if source.episodic_id else [],
        )
        return FactOutcome("merge", target)
    row = fact_row(fact, vector, source, user_id)
    contradicted = next((f for f in existing if f.id == decision.target), None)
    if decision.action != "supersede" or contradicted is None:
        return FactOutcome("add", await store.insert_memory(session, row))
    current = uuid.UUID(contradicted.id)
    # A statement older than the current fact it contradicts (two turns of one user whose
    # memory work ran out of order) is kept as a past version of that fact.
    outdated = contradicted.valid_from is not None and contradicted.valid_from > source.at
    if outdated:
        row |= {"invalid_at": contradicted.valid_from, "superseded_by": current}
    new_id = await store.insert_memory(session, row)
    if outdated:
        old, new, older, newer = new_id, current, fact.content, contradicted.content
    else:
        await store.close_fact(session, user_id=user_id, old=current, new=new_id, at=source.at)
        old, new, older, newer = current, new_id, contradicted.content, fact.content
    await store.record_conflict(
        session,
        user_id=user_id,
        old=old,
        new=new,
        method=f"temporal_precedence:{decision.method}",
        description=f"{older!r} contradicted by {newer!r}",
    )
    return FactOutcome("outdated" if outdated else "supersede", new_id)
