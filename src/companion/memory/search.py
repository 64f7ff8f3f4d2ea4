"""Hybrid retrieval, SQL-first and always for one user (DESIGN §6).

One statement gathers candidates from pgvector (HNSW cosine, with pgvector 0.8's
iterative scan so a ``user_id`` filter still yields the full top-n) and from
PostgreSQL full-text (an OR-style ``to_tsquery``); Python then fuses the normalised
scores, weights them by importance and recency, and picks the final k with MMR using
the candidates' stored vectors (DEF-08).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import String

__all__ = ["Hit", "SearchFilters", "fetch_candidates"]

#: Candidate pool per side (MEM-13 uses min(3k, 50); fusion profits from a bit more).
POOL = 60
#: HNSW ef_search; with iterative scans the index keeps walking until the filter is met.
EF_SEARCH = 100


@dataclass(frozen=True)
class SearchFilters:
    """Per-call filters. Defaults: every type, current facts only."""

    memory_types: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    min_importance: float = 0.0
    include_superseded: bool = False


@dataclass
class Hit:
    """A candidate row with both raw scores (``None`` when that side did not find it)."""

    id: uuid.UUID
    content: str
    memory_type: str
    importance: float
    created_at: datetime
    valid_from: datetime | None
    invalid_at: datetime | None
    event_at: datetime | None
    source_message_ids: list[int]
    source_external_ids: list[str]
    speaker: str | None
    document_id: uuid.UUID | None
    extra: dict[str, Any]
    vector: Any
    similarity: float | None
    text_rank: float | None
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)


_COLUMNS = (
    "m.id, m.content, m.memory_type, m.importance, m.created_at, m.valid_from, m.invalid_at, "
    "m.event_at, m.source_message_ids, m.source_external_ids, m.speaker, m.document_id, "
    "m.metadata AS extra, m.embedding"
)


def _where(filters: SearchFilters) -> str:
    clauses = ["user_id = :uid"]
    if filters.memory_types:
        clauses.append("memory_type = ANY(:types)")
    if not filters.include_superseded:
        clauses.append("invalid_at IS NULL")
    if filters.min_importance > 0:
        clauses.append("importance >= :min_importance")
    if filters.since is not None:
        clauses.append("COALESCE(event_at, created_at) >= :since")
    if filters.until is not None:
        clauses.append("COALESCE(event_at, created_at) < :until")
    return " AND ".join(clauses)


def _sql(filters: SearchFilters, *, dense: bool, sparse: bool) -> str:
    where = _where(filters)
    dense_cte = (
        f"SELECT id, embedding <=> :qv AS dist FROM memories WHERE {where} "
        "AND embedding IS NOT NULL ORDER BY embedding <=> :qv LIMIT :pool"
        if dense
        else "SELECT NULL::uuid AS id, NULL::float8 AS dist WHERE false"
    )
    sparse_cte = (
        "SELECT id, ts_rank_cd(tsv, to_tsquery('english', :tsq), 32) AS rank FROM memories "
        f"WHERE {where} AND tsv @@ to_tsquery('english', :tsq) ORDER BY rank DESC LIMIT :pool"
        if sparse
        else "SELECT NULL::uuid AS id, NULL::float4 AS rank WHERE false"
    )
    return (
        f"WITH dense AS MATERIALIZED ({dense_cte}), sparse AS MATERIALIZED ({sparse_cte}), "
        "ids AS (SELECT id FROM dense UNION SELECT id FROM sparse) "
        f"SELECT {_COLUMNS}, d.dist, s.rank FROM ids JOIN memories m ON m.id = ids.id "
        "AND m.user_id = :uid LEFT JOIN dense d ON d.id = ids.id "
        "LEFT JOIN sparse s ON s.id = ids.id"
    )


async def fetch_candidates(
    session: AsyncSession,
    *,
    user_id: str,
    vector: Sequence[float] | None,
    tsquery: str | None,
    filters: SearchFilters,
    pool: int = POOL,
) -> list[Hit]:
    """Dense and full-text candidates of one user, with their stored vectors.

    Runs inside the caller's transaction (``SET LOCAL`` needs one).
    """
    dense, sparse = vector is not None, tsquery is not None
    if not dense and not sparse:
        return []
    if dense:
        await session.execute(
            text(
                "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
                "set_config('hnsw.ef_search', :ef, true)"
            ),
            {"ef": str(max(EF_SEARCH, pool))},
        )
    statement = text(_sql(filters, dense=dense, sparse=sparse)).columns(embedding=Vector())
    params: dict[str, Any] = {"uid": user_id, "pool": pool}
    binds = []
    if dense:
        binds.append(bindparam("qv", type_=Vector()))
        params["qv"] = list(vector or ())
    if filters.memory_types:
        binds.append(bindparam("types", type_=ARRAY(String())))
        params["types"] = list(filters.memory_types)
    if sparse:
        params["tsq"] = tsquery
    for name in ("min_importance", "since", "until"):
        value = getattr(filters, name)
        if value:
            params[name] = value
    if binds:
        statement = statement.bindparams(*binds)
    rows = (await session.execute(statement, params)).mappings().all()
    return [_hit(row) for row in rows]


def _hit(row: Any) -> Hit:
    embedding = row["embedding"]
    return Hit(
        id=row["id"],
        content=row["content"],
        memory_type=row["memory_type"],
        importance=float(row["importance"]),
        created_at=row["created_at"],
        valid_from=row["valid_from"],
        invalid_at=row["invalid_at"],
        event_at=row["event_at"],
        source_message_ids=list(row["source_message_ids"] or []),
        source_external_ids=list(row["source_external_ids"] or []),
        speaker=row["speaker"],
        document_id=row["document_id"],
        extra=dict(row["extra"] or {}),
        vector=embedding,  # numpy array straight from pgvector: no copy
        similarity=None if row["dist"] is None else 1.0 - float(row["dist"]),
        text_rank=None if row["rank"] is None else float(row["rank"]),
    )
