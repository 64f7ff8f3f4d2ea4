"""Hybrid retrieval, SQL-first and always for one user (DECISIONS.md#memory-sql-first).

One statement gathers candidates from pgvector and from PostgreSQL full-text (rows
matching an OR-style ``to_tsquery``, ranked by Okapi BM25 computed in the same
statement over the turn and its context); Python then fuses the two rankings,
weights them by importance and recency, and picks the final k.

How a user is searched depends on how many memories they have, counted first by a
probe that stops at ``EXACT_BELOW`` rows:

- below it, the dense side compares every vector of the user (exact top-n: a small
  user in a big table still gets its true nearest memories, and a few thousand
  distances take about a millisecond), and BM25 ranks every full-text match;
- at or above it, the dense side walks the HNSW index with pgvector's iterative scan
  (the ``user_id`` filter still yields the full top-n), and the full-text side ranks
  at most ``MATCH_CAP`` matches, those holding the query's rarest words: the words a
  big user says everywhere cost the most to rank and weigh the least in BM25.
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

#: Candidate pool per side (fusion profits from a few more than the k asked for).
POOL = 60
#: HNSW ef_search; with iterative scans the index keeps walking until the filter is met.
EF_SEARCH = 100
#: Users with fewer memories (passing the filters) are searched exactly; see the module.
#: An exact search reads every vector of the user (~1 µs each from shared buffers);
#: above this a filtered HNSW walk is cheaper and still finds the user's rows.
EXACT_BELOW = 5_000
#: How many index tuples an iterative HNSW scan may visit for one query (pgvector's
#: default is 20,000): a user at ``EXACT_BELOW`` in a 4M-row table still gets a full pool.
MAX_SCAN_TUPLES = 50_000
#: Most full-text matches ranked for a user at or above ``EXACT_BELOW`` memories.
MATCH_CAP = 1_000
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
    "m.metadata AS extra"
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


def _matched_all(where: str) -> str:
    """Every row of the user holding a query word (the exact path)."""
    return (
        f"matched AS MATERIALIZED (SELECT id, tsv FROM memories WHERE {where} "
        "AND tsv @@ to_tsquery('english', :tsq)), "
    )


def _matched_rare(where: str) -> str:
    """At most ``:cap`` rows holding the query's rarest words (the capped path).

    Each query lexeme's document frequency is counted up to ``:cap`` (a GIN bitmap, then
    at most ``:cap`` rows); lexemes are kept from the rarest up while together they
    match fewer than ``:cap`` rows. The rarest is always kept; a word common enough to
    reach the cap on its own is kept only if it is the rarest there is.
    """
    return (
        "tdf AS MATERIALIZED (SELECT t AS lexeme, (SELECT count(*) FROM (SELECT 1 FROM "
        f"memories WHERE {where} AND tsv @@ quote_literal(t)::tsquery LIMIT :cap) c)::float8 "
        "AS df FROM q, unnest(q.terms) t), "
        "kept AS (SELECT lexeme FROM (SELECT lexeme, sum(df) OVER w AS running, "
        "row_number() OVER w AS rn FROM tdf WINDOW w AS (ORDER BY df, lexeme)) s "
        "WHERE rn = 1 OR running < :cap), "
        f"matched AS MATERIALIZED (SELECT id, tsv FROM memories WHERE {where} AND tsv @@ "
        "(SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery FROM kept) "
        # When the kept words match nothing, skip the scan: an empty GIN query for a
        # big user still walks the user's posting list (~20 ms at 100k memories).
        "AND (SELECT coalesce(sum(df), 0) FROM tdf JOIN kept USING (lexeme)) > 0 "
        "LIMIT :cap), "
    )


#: A matched row's tsvector cut down to the query's lexemes (their positions and
#: weights kept): deleting the rest is ~3x cheaper than unnesting every lexeme of a
#: turn and its context to keep a few.
_QUERY_PART = "ts_delete(m.tsv, tsvector_to_array(ts_delete(m.tsv, q.terms)))"


def _bm25_ctes(where: str, *, capped: bool) -> str:
    """Okapi BM25 over the user's rows that share a word with the query, in SQL.

    IDF comes from the user's own memories: ``n`` (the probe's count of rows passing
    the filters) and the ``df`` of each query lexeme among them. On the exact path every
    row holding a query word is a match, so the count over the matches is exact; on the
    capped path ``n`` and the ``df`` of common words are counted up to the cap, which
    keeps rare words weighing more than common ones, as they should. A lexeme's term
    frequency counts its positions, those of the turn itself (weight A) fully and those
    of its context (weight B) times ``CONTEXT_WEIGHT`` (BM25F's field weights,
    simplified). Document length is the number of distinct lexemes, averaged over the
    matches.
    """
    k1, b = BM25_K1, BM25_B
    df = (
        "df AS (SELECT lexeme, greatest(tdf.df, count(tf.id))::float8 AS df FROM tdf "
        "LEFT JOIN tf USING (lexeme) GROUP BY lexeme, tdf.df), "
        if capped
        else "df AS (SELECT lexeme, count(*)::float8 AS df FROM tf GROUP BY lexeme), "
    )
    return (
        "q AS MATERIALIZED (SELECT array_agg(DISTINCT lexeme) AS terms "
        "FROM unnest(to_tsvector('english', :qtext))), "
        f"{_matched_rare(where) if capped else _matched_all(where)}"
        "stats AS (SELECT CAST(:n AS float8) AS n, "
        "(SELECT greatest(avg(length(tsv)), 1) FROM matched)::float8 AS avgdl), "
        "tf AS (SELECT m.id, u.lexeme, length(m.tsv)::float8 AS dl, "
        f"(SELECT count(*) FILTER (WHERE w = 'A') + {CONTEXT_WEIGHT!r}::float8 "
        "* count(*) FILTER (WHERE w <> 'A') FROM unnest(u.weights) w)::float8 AS tf "
        f"FROM matched m, q, LATERAL unnest({_QUERY_PART}) u), "
        f"{df}"
        "sparse AS MATERIALIZED (SELECT tf.id, sum(ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5)) "
        f"* tf.tf * ({k1!r} + 1) / (tf.tf + {k1!r} * (1 - {b!r} + {b!r} * tf.dl / s.avgdl))) "
        "AS rank "
        "FROM tf JOIN df USING (lexeme) CROSS JOIN stats s GROUP BY tf.id "
        "ORDER BY rank DESC LIMIT :pool), "
    )


def _dense_cte(where: str, *, exact: bool) -> str:
    if exact:
        # OFFSET 0 keeps the planner from answering the ORDER BY with the HNSW index:
        # the user's rows come through the user_id index, every distance is computed.
        return (
            f"SELECT id, dist FROM (SELECT id, embedding <=> :qv AS dist FROM memories "
            f"WHERE {where} AND embedding IS NOT NULL OFFSET 0) e ORDER BY dist LIMIT :pool"
        )
    return (
        f"SELECT id, embedding <=> :qv AS dist FROM memories WHERE {where} "
        "AND embedding IS NOT NULL ORDER BY embedding <=> :qv LIMIT :pool"
    )


def _sql(
    filters: SearchFilters, *, dense: bool, sparse: bool, exact: bool, with_vectors: bool
) -> str:
    where = _where(filters)
    dense_cte = (
        _dense_cte(where, exact=exact)
        if dense
        else "SELECT NULL::uuid AS id, NULL::float8 AS dist WHERE false"
    )
    sparse_ctes = (
        _bm25_ctes(where, capped=not exact)
        if sparse
        else "sparse AS (SELECT NULL::uuid AS id, NULL::float8 AS rank WHERE false), "
    )
    vector = "m.embedding::real[]" if with_vectors else "NULL::real[]"
    return (
        f"WITH dense AS MATERIALIZED ({dense_cte}), {sparse_ctes}"
        "cand AS MATERIALIZED (SELECT id, min(dist) AS dist, max(rank) AS rank FROM "
        "(SELECT id, dist, NULL::float8 AS rank FROM dense UNION ALL "
        "SELECT id, NULL::float8, rank FROM sparse) both_sides GROUP BY id) "
        f"SELECT {_COLUMNS}, {vector} AS embedding, c.dist, c.rank FROM cand c "
        "JOIN memories m ON m.id = c.id AND m.user_id = :uid"
    )


def _probe_sql(filters: SearchFilters) -> str:
    """The HNSW settings for this transaction, and the user's size up to ``:cap`` rows."""
    return (
        "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
        "set_config('hnsw.ef_search', :ef, true), "
        f"set_config('hnsw.max_scan_tuples', '{MAX_SCAN_TUPLES}', true), "
        f"(SELECT count(*) FROM (SELECT 1 FROM memories WHERE {_where(filters)} "
        "LIMIT :cap) c) AS n"
    )


async def fetch_candidates(
    session: AsyncSession,
    *,
    user_id: str,
    vector: Sequence[float] | None,
    tsquery: str | None,
    filters: SearchFilters,
    pool: int = POOL,
    with_vectors: bool = True,
    exact_below: int = EXACT_BELOW,
    match_cap: int = MATCH_CAP,
) -> list[Hit]:
    """Dense and full-text candidates of one user (with their stored vectors if asked).

    Runs inside the caller's transaction (``set_config(..., true)`` needs one). Two
    round trips: the probe (settings and the user's size), then the search itself.
    ``exact_below`` and ``match_cap`` default to the module's thresholds.
    """
    dense, sparse = vector is not None, tsquery is not None
    if not dense and not sparse:
        return []
    params: dict[str, Any] = {"uid": user_id, "pool": pool, "cap": exact_below}
    for name in ("min_importance", "since", "until"):
        value = getattr(filters, name)
        if value:
            params[name] = value
    binds = []
    if filters.memory_types:
        binds.append(bindparam("types", type_=ARRAY(String())))
        params["types"] = list(filters.memory_types)
    probe = text(_probe_sql(filters))
    if binds:
        probe = probe.bindparams(*binds)
    size = (await session.execute(probe, {**params, "ef": str(max(EF_SEARCH, pool))})).one()
    exact = int(size.n) < exact_below
    statement = text(
        _sql(filters, dense=dense, sparse=sparse, exact=exact, with_vectors=with_vectors)
    )
    if dense:
        binds.append(bindparam("qv", type_=Vector()))
        params["qv"] = list(vector or ())
    if sparse:
        params.update(tsq=tsquery, qtext=(tsquery or "").replace("|", " "), n=int(size.n))
        if not exact:
            params["cap"] = match_cap
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
        vector=embedding,  # a list of floats (cast to real[] in SQL), or None
        similarity=None if row["dist"] is None else 1.0 - float(row["dist"]),
        text_rank=None if row["rank"] is None else float(row["rank"]),
    )
