"""SQL for memory rows, always for one user (the repository of the memory domain)."""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Table,
    bindparam,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from companion.memory.models import Memory, MemoryConflict
from companion.memory.reconcile import ExistingFact
from companion.store import driver
from companion.store.driver import DriverStatement
from companion.store.models import CompanionProfile

__all__ = [
    "active_private_companion",
    "all_current_facts",
    "close_fact",
    "current_facts",
    "current_facts_many",
    "insert_memories",
    "insert_memory",
    "insert_memory_rows",
    "merge_into",
    "merge_many",
    "record_conflict",
    "visible_to_active",
]


def visible_to_active(user_id: str) -> ColumnElement[bool]:
    """Memories the person's active companion may see: shared ones and its own."""
    active = select(CompanionProfile.id).where(
        CompanionProfile.user_id == user_id, CompanionProfile.is_active
    )
    return or_(Memory.companion_id.is_(None), Memory.companion_id.in_(active))


async def active_private_companion(session: AsyncSession, *, user_id: str) -> int | None:
    """The person's active companion if it is private (its new memories are its own)."""
    return await session.scalar(
        select(CompanionProfile.id).where(
            CompanionProfile.user_id == user_id,
            CompanionProfile.is_active,
            CompanionProfile.is_private,
        )
    )


def _same_owner(companion_id: int | None) -> ColumnElement[bool]:
    if companion_id is None:
        return Memory.companion_id.is_(None)
    return Memory.companion_id == companion_id


async def insert_memories(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
    """Insert memory rows (dicts of column values) in one statement; return their ids."""
    if not rows:
        return []
    for row in rows:
        row.setdefault("id", uuid.uuid4())
    await session.execute(insert(Memory), list(rows))
    return [row["id"] for row in rows]


async def insert_memory(session: AsyncSession, row: dict[str, Any]) -> uuid.UUID:
    """Insert one memory row (a dict of column values by attribute name) on the driver,
    its statement built once per set of columns; its id. The memory work's path for a
    new fact (``insert_memories`` goes through the ORM's bulk insert, several times the
    CPU for one row)."""
    row.setdefault("id", uuid.uuid4())
    keys = tuple(row)
    await driver.execute(session, _insert_memory(keys), {f"v_{k}": row[k] for k in keys})
    return uuid.UUID(str(row["id"]))


async def insert_memory_rows(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """``insert_memory`` for several rows (each with its ``id``) in one round trip per
    set of columns (pipelined on the driver)."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(row), []).append({f"v_{k}": v for k, v in row.items()})
    for keys, params in shapes.items():
        await driver.execute_many(session, _insert_memory(keys), params)


@functools.lru_cache(maxsize=16)
def _insert_memory(keys: tuple[str, ...]) -> DriverStatement:
    """``INSERT INTO memories (<keys>) VALUES (:v_<key>, …)`` (parameters named like no
    column, so none is read as the INSERT's own value for it)."""
    columns = sa_inspect(Memory).columns  # by attribute name
    table: Table = Memory.__table__  # type: ignore[assignment]
    return DriverStatement(
        "a new memory",
        insert(table).values(
            {columns[k]: bindparam(f"v_{k}", type_=columns[k].type) for k in keys}
        ),
    )


async def current_facts(
    session: AsyncSession,
    *,
    user_id: str,
    fact_key: str | None,
    vector: Sequence[float] | None,
    limit: int = 10,
    companion_id: int | None = None,
) -> list[ExistingFact]:
    """Current semantic facts with the same key, plus the ``limit`` nearest by cosine.

    Only facts of the same owner take part: the shared ones (``companion_id`` None) or
    one private companion's, so a private conversation never rewrites shared facts.
    Each fact comes with its cosine similarity to ``vector``, computed by the database
    (``ExistingFact.similarity``; 0 without a vector on either side) instead of its
    vector: reading and converting five 384-d vectors per fact cost more CPU than the
    query.
    """
    if vector is None and fact_key is None:
        return []
    statement = _current_facts(
        keyed=fact_key is not None,
        nearest=vector is not None,
        private=companion_id is not None,
        limit=limit,
    )
    params: dict[str, Any] = {"owner": user_id, "companion": companion_id, "key": fact_key}
    if vector is not None:
        params["qv"] = vector  # binary (``store.vector``'s codec)
    rows = await driver.fetch(session, statement, params)
    seen: set[uuid.UUID] = set()
    facts = []
    for row in rows:
        found = uuid.UUID(bytes=row[0].bytes)
        if found in seen:
            continue
        seen.add(found)
        similarity = row[4]
        if similarity is None or math.isnan(similarity):  # no vector, or a zero one
            similarity = 0.0
        facts.append(ExistingFact(str(found), row[1], row[2], None, row[3], float(similarity)))
    return facts


@functools.lru_cache(maxsize=32)
def _current_facts(*, keyed: bool, nearest: bool, private: bool, limit: int) -> DriverStatement:
    """``current_facts``' statement, built once per shape (statement construction and
    its cache key cost more CPU than the query; this runs for every fact of every turn).
    Parameters: ``owner``, ``companion`` (when ``private``), ``key`` (when ``keyed``),
    ``qv`` (the vector, when ``nearest``); the same key first, then the nearest
    in order. Columns: id, fact_key, content, valid_from, similarity (NULL without
    ``qv``).
    """
    distance: ColumnElement[Any] = Memory.embedding.cosine_distance(
        bindparam("qv", type_=Memory.embedding.type)
    )
    similarity: ColumnElement[Any] = (
        (literal(1.0, Float) - distance) if nearest else null().cast(Float)
    )
    base = select(
        Memory.id, Memory.fact_key, Memory.content, Memory.valid_from,
        similarity.label("similarity"),
    ).where(
        Memory.user_id == bindparam("owner"),
        Memory.companion_id == bindparam("companion") if private else Memory.companion_id.is_(None),
        Memory.memory_type == "semantic",
        Memory.invalid_at.is_(None),
    )  # fmt: skip
    keyed_part = base.where(Memory.fact_key == bindparam("key"))
    if not nearest:
        return DriverStatement("the user's current facts of a key", keyed_part)
    nearest_part = base.where(Memory.embedding.is_not(None)).order_by(distance).limit(limit)
    if not keyed:
        return DriverStatement("the user's current facts nearest a vector", nearest_part)
    part: ColumnElement[Any] = literal_column("part")
    rank: ColumnElement[Any] = literal_column("rank")
    return DriverStatement(
        "the user's current facts of a key and nearest a vector",
        union_all(
            keyed_part.add_columns(literal(0).label("part"), literal(0.0, Float).label("rank")),
            nearest_part.add_columns(literal(1).label("part"), distance.label("rank")),
        ).order_by(part, rank),
    )


#: ``current_facts`` for several facts in one statement: one row of parameters per fact
#: (owner, companion or NULL for shared facts, key or NULL, vector or NULL; each an array
#: parameter), each fact's rows as ``current_facts`` reads them (the same key first,
#: then the ``limit`` nearest by cosine), tagged with the fact's position ``n`` (from 1).
_CURRENT_FACTS_MANY = DriverStatement(
    "current facts of several new facts",
    text(
        "SELECT t.n, c.id, c.fact_key, c.content, c.valid_from, c.similarity "
        "FROM unnest(CAST(:owners AS varchar[]), CAST(:companions AS bigint[]), "
        "CAST(:keys AS varchar[]), CAST(:qvs AS vector[])) WITH ORDINALITY "
        "AS t(owner, companion, key, qv, n) "
        "CROSS JOIN LATERAL ("
        "(SELECT m.id, m.fact_key, m.content, m.valid_from, "
        "CAST(1.0 - (m.embedding <=> t.qv) AS float8) AS similarity, 0 AS part, "
        "CAST(0.0 AS float8) AS rank FROM memories m "
        "WHERE m.user_id = t.owner AND m.companion_id IS NOT DISTINCT FROM t.companion "
        "AND m.memory_type = 'semantic' AND m.invalid_at IS NULL AND m.fact_key = t.key) "
        "UNION ALL "
        "(SELECT m.id, m.fact_key, m.content, m.valid_from, "
        "CAST(1.0 - (m.embedding <=> t.qv) AS float8), 1, "
        "CAST(m.embedding <=> t.qv AS float8) FROM memories m "
        "WHERE t.qv IS NOT NULL AND m.user_id = t.owner "
        "AND m.companion_id IS NOT DISTINCT FROM t.companion "
        "AND m.memory_type = 'semantic' AND m.invalid_at IS NULL "
        "AND m.embedding IS NOT NULL ORDER BY m.embedding <=> t.qv LIMIT :limit)"
        ") c ORDER BY t.n, c.part, c.rank"
    ),
)


async def current_facts_many(
    session: AsyncSession,
    wanted: Sequence[tuple[str, str | None, Sequence[float] | None, int | None]],
    *,
    limit: int = 10,
) -> list[list[ExistingFact]]:
    """``current_facts`` for each ``(user_id, fact_key, vector, companion_id)`` of
    ``wanted``, in one statement; the lists in ``wanted`` order. Each fact sees the
    rows as they are when the statement runs: facts of one user that must see each
    other's writes go in separate calls."""
    if not wanted:
        return []
    rows = await driver.fetch(
        session,
        _CURRENT_FACTS_MANY,
        {
            "owners": [w[0] for w in wanted],
            "keys": [w[1] for w in wanted],
            # Tuples: asyncpg reads a list in an array as a sub-array, a tuple as one value.
            "qvs": [None if w[2] is None else tuple(w[2]) for w in wanted],
            "companions": [w[3] for w in wanted],
            "limit": limit,
        },
    )
    found: list[list[ExistingFact]] = [[] for _ in wanted]
    seen: list[set[uuid.UUID]] = [set() for _ in wanted]
    for row in rows:
        n = row[0] - 1
        fact_id = uuid.UUID(bytes=row[1].bytes)
        if fact_id in seen[n]:
            continue
        seen[n].add(fact_id)
        similarity = row[5]
        if similarity is None or math.isnan(similarity):  # no vector, or a zero one
            similarity = 0.0
        found[n].append(ExistingFact(str(fact_id), row[2], row[3], None, row[4], float(similarity)))
    return found


async def all_current_facts(session: AsyncSession, *, user_id: str) -> list[ExistingFact]:
    """Every current semantic fact of the user (for bulk reconciliation)."""
    rows = await session.execute(
        select(Memory.id, Memory.fact_key, Memory.content, Memory.embedding).where(
            Memory.user_id == user_id,
            Memory.memory_type == "semantic",
            Memory.invalid_at.is_(None),
        )
    )
    return [
        ExistingFact(
            str(r.id), r.fact_key, r.content, None if r.embedding is None else list(r.embedding)
        )
        for r in rows
    ]


async def merge_into(
    session: AsyncSession,
    *,
    user_id: str,
    target: uuid.UUID,
    message_ids: Sequence[int],
    external_ids: Sequence[str],
    importance: float,
    memory_ids: Sequence[uuid.UUID] = (),
) -> None:
    """Fold a duplicate's provenance into ``target`` and keep the higher importance.

    ``memory_ids`` (the episodic memory of the turn that said it again) joins the
    fact's sources, so forgetting one of the turns keeps a fact the other still backs.
    """
    await driver.execute(
        session,
        _MERGE,
        {
            "target": target,
            "owner": user_id,
            "more_messages": list(message_ids),
            "more_external": list(external_ids),
            "more_memories": list(memory_ids),
            "said_importance": importance,
        },
    )


async def merge_many(session: AsyncSession, merges: Sequence[dict[str, Any]]) -> None:
    """``merge_into`` for several duplicates (each a dict of its keyword arguments), in
    one round trip (pipelined on the driver, in order)."""
    await driver.execute_many(
        session,
        _MERGE,
        [
            {
                "target": m["target"],
                "owner": m["user_id"],
                "more_messages": list(m["message_ids"]),
                "more_external": list(m["external_ids"]),
                "more_memories": list(m.get("memory_ids", ())),
                "said_importance": m["importance"],
            }
            for m in merges
        ],
    )


#: ``merge_into``'s statement, built once and run on the driver (parameters named like
#: no column: an UPDATE reads a parameter named like a column as a SET of it).
_MERGE = DriverStatement(
    "a duplicate fact's provenance folded into the stored one",
    update(Memory)
    .where(Memory.id == bindparam("target"), Memory.user_id == bindparam("owner"))
    .values(
        source_message_ids=func.array_cat(
            Memory.source_message_ids,
            bindparam("more_messages", type_=Memory.source_message_ids.type),
        ),
        source_external_ids=func.array_cat(
            Memory.source_external_ids,
            bindparam("more_external", type_=Memory.source_external_ids.type),
        ),
        source_memory_ids=func.array_cat(
            Memory.source_memory_ids,
            bindparam("more_memories", type_=Memory.source_memory_ids.type),
        ),
        importance=func.greatest(Memory.importance, bindparam("said_importance", type_=Float)),
        confidence=func.least(1.0, func.coalesce(Memory.confidence, 0.6) + 0.1),
    ),
)


async def close_fact(
    session: AsyncSession,
    *,
    user_id: str,
    old: uuid.UUID,
    new: uuid.UUID,
    at: datetime,
) -> None:
    """Mark ``old`` as no longer valid from ``at``, superseded by ``new`` (kept, not deleted)."""
    await session.execute(
        update(Memory)
        .where(Memory.id == old, Memory.user_id == user_id)
        .values(invalid_at=at, superseded_by=new)
    )


async def record_conflict(
    session: AsyncSession,
    *,
    user_id: str,
    old: uuid.UUID,
    new: uuid.UUID,
    method: str,
    description: str,
    confidence: float = 0.8,
) -> None:
    """A resolved ``memory_conflicts`` row: the newer fact won (temporal precedence)."""
    session.add(
        MemoryConflict(
            user_id=user_id,
            conflict_type="factual_contradiction",
            description=description[:2000],
            confidence=max(0.0, min(1.0, confidence)),
            primary_memory_id=str(new),
            conflicting_memory_id=str(old),
            related_memory_ids=[str(old), str(new)],
            status="resolved",
            resolution_method=method,
            resolution_notes="the newer statement supersedes the older one; both are kept",
            resolved_at=func.now(),
        )
    )
    await session.flush()
