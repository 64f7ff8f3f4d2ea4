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
from companion.memory.reconcile import Decision, ExistingFact, decide

__all__ = ["FactOutcome", "Provenance", "apply_fact", "apply_facts", "content_hash", "fact_row"]


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
    return await _supersede(session, user_id, fact, row, source, contradicted, decision)


async def apply_facts(
    session: AsyncSession,
    entries: Sequence[tuple[str, ExtractedFact, Sequence[float] | None, Provenance]],
) -> list[FactOutcome]:
    """``apply_fact`` for each ``(user_id, fact, vector, source)`` of ``entries``, with
    the same outcomes as one after the other in ``entries`` order, in fewer round trips.

    The entries go in rounds: round k holds each user's k-th entry, so a round has one
    fact per user and its facts read and write disjoint rows (every statement is for
    one user). A round is one read of all its facts' current facts, then its new facts
    in one pipelined insert and its merges in one pipelined update; a contradiction is
    written as ``apply_fact`` writes it. Round k + 1 sees round k's writes, so each of a
    user's facts sees the ones before it, as one by one.
    """
    rounds: list[list[int]] = []
    seen: dict[str, int] = {}
    for n, (user_id, *_) in enumerate(entries):
        k = seen.get(user_id, 0)
        seen[user_id] = k + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(n)
    outcomes: dict[int, FactOutcome] = {}
    for members in rounds:
        found = await store.current_facts_many(
            session,
            [
                (user_id, fact.fact_key, vector, source.companion_id)
                for user_id, fact, vector, source in (entries[n] for n in members)
            ],
            limit=5,
        )
        adds: list[dict[str, Any]] = []
        merges: list[dict[str, Any]] = []
        contradictions: list[
            tuple[int, str, ExtractedFact, dict[str, Any], Provenance, ExistingFact, Decision]
        ] = []
        for n, existing in zip(members, found, strict=True):
            user_id, fact, vector, source = entries[n]
            decision = decide(fact.content, fact.fact_key, vector, existing)
            if decision.action == "merge" and decision.target is not None:
                target = uuid.UUID(decision.target)
                merges.append(
                    {
                        "user_id": user_id, "target": target, "message_ids": source.message_ids,
                        "external_ids": source.external_ids, "importance": source.importance,
                        "memory_ids": [source.episodic_id] if source.episodic_id else [],
                    }
                )  # fmt: skip
                outcomes[n] = FactOutcome("merge", target)
                continue
            row = fact_row(fact, vector, source, user_id)
            contradicted = next((f for f in existing if f.id == decision.target), None)
            if decision.action != "supersede" or contradicted is None:
                adds.append(row)
                outcomes[n] = FactOutcome("add", row["id"])
                continue
            contradictions.append((n, user_id, fact, row, source, contradicted, decision))
        await store.insert_memory_rows(session, adds)
        await store.merge_many(session, merges)
        for n, user_id, fact, row, source, contradicted, decision in contradictions:
            outcomes[n] = await _supersede(
                session, user_id, fact, row, source, contradicted, decision
            )
    return [outcomes[n] for n in range(len(entries))]


async def _supersede(
    session: AsyncSession,
    user_id: str,
    fact: ExtractedFact,
    row: dict[str, Any],
    source: Provenance,
    contradicted: ExistingFact,
    decision: Decision,
) -> FactOutcome:
    """Write ``fact`` (its new ``row``) as contradicting the current fact
    ``contradicted``: closing it, or, when the statement is older, stored closed."""
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
