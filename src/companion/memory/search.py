"""Hybrid retrieval, SQL-first and always for one user (DECISIONS.md#memory-sql-first).

One statement gathers candidates from pgvector (HNSW cosine, with pgvector 0.8's
iterative scan so a ``user_id`` filter still yields the full top-n) and from
PostgreSQL full-text (rows matching an OR-style ``to_tsquery``, ranked by Okapi BM25
computed in the same statement over the turn and its context); Python then fuses the
two rankings, weights them by importance and recency, and picks the final k.
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

#: Candidate pool per side (the earlier design used min(3k, 50); fusion profits from a bit more).
POOL = 60
#: HNSW ef_search; with iterative scans the index keeps walking until the filter is met.
EF_SEARCH = 100
#: Okapi BM25 parameters (the usual ones).
BM25_K1, BM25_B = 1.2, 0.75
#: How much a word of a turn's context counts against a word of the turn itself.
CONTEXT_WEIGHT = 0.5


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


#: The rows the person's active companion may see: the shared ones and its own private ones.
VISIBLE = (
    "(companion_id IS NULL OR companion_id IN "
    "(SELECT c.id FROM companions c WHERE c.user_id = :uid AND c.is_active))"
)


def _where(filters: SearchFilters) -> str:
    clauses = ["user_id = :uid", VISIBLE]
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


def _bm25_ctes(where: str) -> str:
    """Okapi BM25 over the user's rows that share a word with the query, in SQL.

    IDF comes from the user's own memories (``n`` rows passing the filters, ``df`` of
    each query lexeme among them: every row holding a query word is a match, so the
    count over the matches is exact). A lexeme's term frequency counts its positions,
    those of the turn itself (weight A) fully and those of its context (weight B)
    times ``CONTEXT_WEIGHT`` (BM25F's field weights, simplified). Document length is the
    number of distinct lexemes, averaged over the matches.
    """
    k1, b = BM25_K1, BM25_B
    return (
        "q AS (SELECT array_agg(DISTINCT lexeme) AS terms "
        "FROM unnest(to_tsvector('english', :qtext))), "
        f"matched AS MATERIALIZED (SELECT id, tsv FROM memories WHERE {where} "
        "AND tsv @@ to_tsquery('english', :tsq)), "
        f"stats AS (SELECT (SELECT count(*) FROM memories WHERE {where})::float8 AS n, "
        "(SELECT greatest(avg(length(tsv)), 1) FROM matched)::float8 AS avgdl), "
        "tf AS (SELECT m.id, u.lexeme, length(m.tsv)::float8 AS dl, "
        f"(SELECT count(*) FILTER (WHERE w = 'A') + {CONTEXT_WEIGHT!r}::float8 "
        "* count(*) FILTER (WHERE w <> 'A') FROM unnest(u.weights) w)::float8 AS tf "
        "FROM matched m CROSS JOIN LATERAL unnest(m.tsv) u, q WHERE u.lexeme = ANY(q.terms)), "
        "df AS (SELECT lexeme, count(*)::float8 AS df FROM tf GROUP BY lexeme), "
        "sparse AS MATERIALIZED (SELECT tf.id, sum(ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5)) "
        f"* tf.tf * ({k1!r} + 1) / (tf.tf + {k1!r} * (1 - {b!r} + {b!r} * tf.dl / s.avgdl))) "
        "AS rank "
        "FROM tf JOIN df USING (lexeme) CROSS JOIN stats s GROUP BY tf.id "
        "ORDER BY rank DESC LIMIT :pool), "
    )


def _sql(filters: SearchFilters, *, dense: bool, sparse: bool) -> str:
    where = _where(filters)
    dense_cte = (
        f"SELECT id, embedding <=> :qv AS dist FROM memories WHERE {where} "
        "AND embedding IS NOT NULL ORDER BY embedding <=> :qv LIMIT :pool"
        if dense
        else "SELECT NULL::uuid AS id, NULL::float8 AS dist WHERE false"
    )
    sparse_ctes = (
        _bm25_ctes(where)
        if sparse
        else "sparse AS (SELECT NULL::uuid AS id, NULL::float8 AS rank WHERE false), "
    )
    return (
        f"WITH dense AS MATERIALIZED ({dense_cte}), {sparse_ctes}"
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
        params.update(tsq=tsquery, qtext=(tsquery or "").replace("|", " "))
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
