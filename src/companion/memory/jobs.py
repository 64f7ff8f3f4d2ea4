"""Nightly memory jobs: idempotent, each returns a dict of counts (safe to re-run).

- ``consolidate``: clusters of ≥ 3 unconsolidated episodic memories at cosine ≥ 0.7
  become one semantic memory; importance = min(1, mean × 1.2) (the Discord
  design's memory manager, not the reflection agent's 1.3, so consolidation cannot inflate a
  theme past its sources by much). Sources are marked ``consolidated_into``.
- ``recency_decay``: ``recency_score = 0.5 ** (days since last access / 30)``
  (DECISIONS.md#importance-heuristic) for each retrieved memory, in ``memory_access``
  (a memory never retrieved has no row there: its recency is that of its age); an
  absolute function of time, so running it twice changes nothing. It never rewrites a
  ``memories`` row, and retrieval does not read the score (it weighs each memory by
  its age at read time), so ranking does not depend on when the job last ran.
- ``conflict_scan``: several current facts with one ``fact_key`` → the newest wins, the
  others are closed (superseded, kept) with a ``memory_conflicts`` row
  (DECISIONS.md#memory-never-deletes).
- ``retention_cleanup``: memories older than the user's ``data_retention_days`` are
  forgotten with what derives only from them (uploaded documents stay until the
  user deletes them) ; ``store.retention`` does the same for messages.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update

from companion.llm.base import ChatMessage, ChatRequest, RoleModel
from companion.memory import store
from companion.memory.clustering import MIN_CLUSTER, greedy_clusters, summary_of
from companion.memory.facts_writer import content_hash
from companion.memory.forgetting import forget_memories
from companion.memory.models import Memory
from companion.store.database import Database

__all__ = ["conflict_scan", "consolidate", "recency_decay", "retention_cleanup"]

log = logging.getLogger(__name__)

#: How many recent unconsolidated memories one user's consolidation looks at.
BATCH = 200


async def _summary(
    fast: RoleModel | None, contents: list[str], vectors: list[Any], user_id: str
) -> str:
    if fast is not None and getattr(fast, "capable", False):
        prompt = (
            "Summarise these related memories about the user in one factual sentence:\n"
            + "\n".join(f"- {c}" for c in contents)
        )
        try:
            completion = await fast.complete(
                ChatRequest([ChatMessage("user", prompt)], max_tokens=80, temperature=0.2),
                user_id=user_id,
            )
            if completion.text.strip():
                return completion.text.strip()
        except Exception:
            pass
    return summary_of(contents, vectors)


async def _consolidate_user(db: Database, user_id: str, fast: RoleModel | None) -> int:
    async with db.session() as session:
        rows = (
            await session.scalars(
                select(Memory)
                .where(
                    Memory.user_id == user_id,
                    Memory.memory_type == "episodic",
                    Memory.consolidated_into.is_(None),
                    Memory.embedding.is_not(None),
                    # A private companion's memories never mix into shared summaries.
                    Memory.companion_id.is_(None),
                )
                .order_by(Memory.created_at.desc())
                .limit(BATCH)
            )
        ).all()
    made = 0
    vectors = [list(r.embedding) for r in rows if r.embedding is not None]
    for cluster in greedy_clusters(vectors):
        if len(cluster) < MIN_CLUSTER:
            continue
        members = [rows[i] for i in cluster]
        contents = [m.content for m in members]
        summary = await _summary(fast, contents, [vectors[i] for i in cluster], user_id)
        centroid = [
            sum(col) / len(cluster) for col in zip(*(vectors[i] for i in cluster), strict=True)
        ]
        importance = min(1.0, sum(m.importance for m in members) / len(members) * 1.2)
        row = {
            "user_id": user_id, "memory_type": "semantic", "content": summary,
            "content_hash": content_hash(summary), "embedding": centroid, "importance": importance,
            "source_memory_ids": [m.id for m in members],
            "source_message_ids": [i for m in members for i in m.source_message_ids],
            "source_external_ids": [i for m in members for i in m.source_external_ids],
            "valid_from": min(m.created_at for m in members), "confidence": 0.6,
            "extra": {"method": "consolidation", "source_memory_count": len(members)},
        }  # fmt: skip
        async with db.transaction() as session:
            (new_id,) = await store.insert_memories(session, [row])
            await session.execute(
                update(Memory)
                .where(Memory.user_id == user_id, Memory.id.in_([m.id for m in members]))
                .values(consolidated_into=new_id)
            )
        made += 1
    return made


async def consolidate(
    db: Database, *, fast: RoleModel | None = None, user_id: str | None = None
) -> dict[str, int]:
    """Consolidate every user's (or one user's) related episodic memories."""
    async with db.session() as session:
        query = text(
            "SELECT DISTINCT user_id FROM memories WHERE memory_type = 'episodic' "
            "AND consolidated_into IS NULL" + (" AND user_id = :uid" if user_id else "")
        )
        users = [r[0] for r in await session.execute(query, {"uid": user_id} if user_id else {})]
    created = failed = 0
    for uid in users:
        try:
            created += await _consolidate_user(db, uid, fast)
        except Exception:  # one user's failure must not stop the others
            if user_id is not None:
                raise  # a per-user job step: its runner records the failure
            log.exception("consolidation failed for one user", extra={"user_id": uid})
            failed += 1
    return {"users": len(users), "semantic_created": created, "failed": failed}


async def recency_decay(db: Database, *, now: datetime | None = None) -> dict[str, int]:
    """Recompute the recency score of every retrieved memory from its last access.

    Only the narrow ``memory_access`` rows change (fillfactor 80: their updates stay on
    their page, no index entry): rewriting ``memories`` rows for it cost a new version
    of each ~2 kB row and, off its page, an entry in every index, HNSW included.
    """
    async with db.transaction() as session:
        result = await session.execute(
            text(
                "UPDATE memory_access SET recency_score = power(0.5, GREATEST(0, "
                "EXTRACT(EPOCH FROM (:now - last_accessed)) / 86400.0) / 30.0)"
            ),
            {"now": now or datetime.now(UTC)},
        )
    return {"updated": int(result.rowcount)}  # type: ignore[attr-defined]


async def conflict_scan(db: Database) -> dict[str, int]:
    """Close all but the newest current fact of each (user, fact_key)."""
    closed = 0
    async with db.transaction() as session:
        groups = await session.execute(
            text(
                "SELECT user_id, fact_key, array_agg(id ORDER BY valid_from DESC NULLS LAST, "
                "created_at DESC) AS ids FROM memories WHERE memory_type = 'semantic' "
                "AND invalid_at IS NULL AND fact_key IS NOT NULL "
                "GROUP BY user_id, companion_id, fact_key "
                "HAVING count(*) > 1"
            )
        )
        for user_id, fact_key, ids in groups.all():
            newest: uuid.UUID = ids[0]
            for old in ids[1:]:
                await store.close_fact(
                    session, user_id=user_id, old=old, new=newest, at=datetime.now(UTC)
                )
                await store.record_conflict(
                    session, user_id=user_id, old=old, new=newest,
                    method="temporal_precedence:scan",
                    description=f"two current facts for {fact_key!r}",
                )  # fmt: skip
                closed += 1
    return {"superseded": closed}


async def retention_cleanup(db: Database, *, now: datetime | None = None) -> dict[str, int]:
    """Delete memories (not documents) older than each user's retention period.

    Forgotten like any other memory: the facts derived only from them and the
    summaries that used them go too (``memory.forgetting``). ``deleted`` counts the
    memories past retention themselves.
    """
    async with db.transaction() as session:
        rows = await session.execute(
            text(
                "SELECT m.user_id, array_agg(m.id) FROM memories m JOIN users u "
                "ON m.user_id = u.id WHERE m.memory_type <> 'document' "
                "AND m.created_at < CAST(:now AS timestamptz) "
                "- make_interval(days => u.data_retention_days) GROUP BY m.user_id"
            ),
            {"now": now or datetime.now(UTC)},
        )
        totals = {"deleted": 0, "derived_facts": 0, "summaries": 0}
        for user_id, ids in rows.all():
            counts = await forget_memories(session, user_id=user_id, memory_ids=ids)
            totals["deleted"] += counts.memories
            totals["derived_facts"] += counts.derived_facts
            totals["summaries"] += counts.summaries
    return totals
