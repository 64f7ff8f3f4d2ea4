"""Hybrid retrieval, SQL-first and always for one user (DECISIONS.md#memory-sql-first).

One statement gathers candidates from pgvector and from PostgreSQL full-text (rows
matching an OR-style ``to_tsquery``, ranked by Okapi BM25 computed in the same
statement over the turn and its context); Python then fuses the two rankings,
weights them by importance and recency, and picks the final k.

How a user is searched depends on how many memories they have, counted inside the
same statement up to ``EXACT_BELOW`` rows (both paths are in the statement; the count
decides which one runs):

- below it, the dense side compares every vector of the user (exact top-n: a small
  user in a big table still gets its true nearest memories, and a few thousand
  distances take about a millisecond), and BM25 ranks every full-text match; the
  dense side stays exact up to ``EXACT_VECTORS_BELOW`` (counted as far as that);
- at or above ``EXACT_VECTORS_BELOW``, the dense side walks the HNSW index with
  pgvector's iterative scan for ``BIG_POOL`` rows (the ``user_id`` filter still yields
  them all; the settings come with the connection,
  ``store.database.VECTOR_SESSION_SETTINGS``);
- at or above ``EXACT_BELOW``, the full-text side ranks at most ``MATCH_CAP``
  matches, those holding the query's rarest words: the words a big user says
  everywhere cost the most to scan and weigh the least in BM25, so a word reaching
  ``DF_CAP`` is scanned only when no query word is rarer.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from companion.memory.user_index import sql_literal
from companion.store import driver

__all__ = ["Hit", "SearchFilters", "fetch_candidates"]

#: Candidate pool per side (fusion profits from a few more than the k asked for).
POOL = 60
#: Users with fewer memories (passing the filters) are searched exactly; see the module.
#: An exact search reads every vector of the user (~1 µs each from shared buffers);
#: above this a filtered HNSW walk is cheaper and still finds the user's rows.
EXACT_BELOW = 5_000
#: Users with fewer memories than this have their vectors compared exactly even at or
#: above ``EXACT_BELOW`` (their full-text side is capped all the same). Without indexes
#: of their own (``memory.user_index``: from 50,000) the HNSW walk filters the whole
#: table's graph for the user's rows, and a user holding 1 % of it makes the walk visit
#: ~100 rows per row it returns: on the 1M-row benchmark a 10k user's walk for 20 rows
#: took 119 ms at p50 where comparing its 10,000 vectors took 18 ms (load ~9). Comparing
#: grows with the user's rows and the walk shrinks with their share, so the exact side
#: stops here, below where own indexes start.
EXACT_VECTORS_BELOW = 20_000
#: Dense candidates of a user at or above ``EXACT_BELOW`` memories (the HNSW walk).
#: The walk's cost grows with the rows it must return under the user filter: on the
#: 1M-row benchmark (a user with 100k memories) 20 rows take ~4 ms and 60 or more
#: several tens of ms; fusion and the final k = 10 need no more than this.
BIG_POOL = 20
#: Most full-text matches ranked for a user at or above ``EXACT_BELOW`` memories.
MATCH_CAP = 300
#: How far each query word's matches are counted for such a user, to find the rare
#: ones: every counted match is a heap visit (a user with 100k memories has ~6,000
#: matches of a common word), and a word past this many is common for BM25 anyway.
DF_CAP = 100
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


@dataclass(slots=True)
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
    vector: Any
    similarity: float | None
    text_rank: float | None
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)


_COLUMNS = (
    "m.id, m.content, m.memory_type, m.importance, m.created_at, m.valid_from, m.invalid_at, "
    "m.event_at, m.source_message_ids, m.source_external_ids, m.speaker, m.document_id"
)


#: The rows the person's active companion may see: the shared ones and its own private ones.
VISIBLE = (
    "(companion_id IS NULL OR companion_id IN "
    "(SELECT c.id FROM companions c WHERE c.user_id = :uid AND c.is_active))"
)


def _where(filters: SearchFilters, *, user: str = "user_id = :uid") -> str:
    clauses = [user, VISIBLE]
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


#: The two paths, decided inside the statement by the ``size`` CTE (the user's rows
#: passing the filters, counted up to ``:exact_below``). Each branch below carries one
#: of these; PostgreSQL evaluates it once, before the branch runs, and skips the branch
#: whose condition is false (a "one-time filter"), so one round trip serves both paths.
_SMALL = "(SELECT n FROM size) < :exact_below"
_BIG = "(SELECT n FROM size) >= :exact_below"
#: The same for the dense side (``EXACT_VECTORS_BELOW``).
_VECTORS_SMALL = "(SELECT n FROM size) < :vexact_below"
_VECTORS_BIG = "(SELECT n FROM size) >= :vexact_below"
#: The big user's filter on the dense side, written so that no B-tree on ``user_id``
#: can answer it: the plan of a prepared statement turns generic after five runs, and a
#: generic plan estimates an average user (a thousand rows in a 1M-row table), for whom
#: reading the user's rows through a B-tree and sorting them looks cheaper than the
#: HNSW index; for a user with 100k memories that plan compares every vector.
_BIG_USER = "(user_id || '') = :uid"
#: Where a user with their own indexes is named as a constant (``_statement``).
_USER_LITERAL = "~user~"


def _matched(where: str) -> str:
    """The rows BM25 ranks: every match on the exact path, at most ``:cap`` on the big one.

    Big path: each query lexeme's document frequency is counted up to ``:dfcap`` (a GIN
    bitmap, then at most ``:dfcap`` rows), or taken as ``:dfcap`` for the words in
    ``:common`` (known to reach it); lexemes are kept from the rarest up while
    together they match fewer than ``:cap`` rows. The rarest word the user has said is
    always kept; a word common enough to reach ``:dfcap`` is kept only if it is the
    rarest there is. The scan builds the bitmap of every kept word's whole posting list
    before it takes ``:cap`` rows, the first in heap order (the user's oldest): a common
    word kept beside another multiplied that cost (13,000 to 56,000 bitmap rows for 300
    matches on the 1M-row benchmark's 100k user, against ~6,500 for one word), and
    kept beside a rare word it could push the rare word's rows out of the ``:cap``.
    Rows holding a query word that is not kept still count it in their BM25 score.

    Among words at ``:dfcap`` the rarest is the one probed (counted to the cap, so it was
    not common at the last count), then the one latest in ``:common`` (which lists the
    most frequent first), then the first by spelling: the shortest posting list is the
    one scanned, and its rows are the most telling of the query.
    """
    return (
        # A word known to be common (``:common``, ``memory.common_words``) is taken as
        # counted to the cap without probing the index for it.
        "tdf AS MATERIALIZED (SELECT t AS lexeme, (CASE WHEN t = ANY(CAST(:common AS text[])) "
        "THEN :dfcap ELSE (SELECT count(*) FROM (SELECT 1 FROM "
        f"memories WHERE {where} AND tsv @@ quote_literal(t)::tsquery LIMIT :dfcap) c) END)"
        "::float8 AS df, array_position(CAST(:common AS text[]), t) AS place "
        f"FROM q, unnest(q.terms) t WHERE {_BIG}), "
        # A word the user never said matches nothing: it is no one's rarest word (kept,
        # it would have shut out every word that matches). Ties at the cap: a probed
        # word (no place) first, then the latest in the list (DESC puts NULLs first).
        "kept AS (SELECT lexeme FROM (SELECT lexeme, df, sum(df) OVER w AS running, "
        "row_number() OVER w AS rn FROM tdf WHERE df > 0 "
        "WINDOW w AS (ORDER BY df, place DESC, lexeme)) s "
        "WHERE rn = 1 OR (df < :dfcap AND running < :cap)), "
        # The query parsed once (an InitPlan): a generic plan estimating a few rows per
        # user filters the user's rows instead of using the GIN index, and with the call
        # inline it parsed the query again for every row (~4 ms of a 1,000-memory
        # user's full-text side).
        f"matched AS MATERIALIZED ((SELECT id, tsv FROM memories WHERE {where} "
        f"AND tsv @@ (SELECT to_tsquery('english', :tsq)) AND {_SMALL}) UNION ALL "
        f"(SELECT id, tsv FROM memories WHERE {where} AND tsv @@ "
        "(SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery FROM kept) "
        # When the kept words match nothing, skip the scan: an empty GIN query for a
        # big user still walks the user's posting list (~20 ms at 100k memories).
        "AND (SELECT coalesce(sum(df), 0) FROM tdf JOIN kept USING (lexeme)) > 0 "
        f"AND {_BIG} LIMIT :cap)), "
    )


#: A matched row's tsvector cut down to the query's lexemes (their positions and
#: weights kept): deleting the rest is ~3x cheaper than unnesting every lexeme of a
#: turn and its context to keep a few.
_QUERY_PART = "ts_delete(m.tsv, tsvector_to_array(ts_delete(m.tsv, q.terms)))"


def _bm25_ctes(where: str) -> str:
    """Okapi BM25 over the user's rows that share a word with the query, in SQL.

    IDF comes from the user's own memories: ``n`` (the ``size`` count of rows passing
    the filters) and the ``df`` of each query lexeme among them. On the exact path every
    row holding a query word is a match, so the count over the matches is exact; on the
    big path ``n`` and the ``df`` of common words are counted up to the caps, which
    keeps rare words weighing more than common ones, as they should. A lexeme's term
    frequency counts its positions, those of the turn itself (weight A) fully and those
    of its context (weight B) times ``CONTEXT_WEIGHT`` (BM25F's field weights,
    simplified). Document length is the number of distinct lexemes, averaged over the
    matches.
    """
    k1, b = BM25_K1, BM25_B
    return (
        "q AS MATERIALIZED (SELECT array_agg(DISTINCT lexeme) AS terms "
        "FROM unnest(to_tsvector('english', :qtext))), "
        f"{_matched(where)}"
        "stats AS (SELECT least((SELECT n FROM size), :exact_below) AS n, "
        "(SELECT greatest(avg(length(tsv)), 1) FROM matched)::float8 AS avgdl), "
        # The positions in the turn (weight A) and in its context (the rest), counted
        # with array functions: a subquery over unnest(weights) per lexeme and row cost
        # ~18 µs each, most of a LoCoMo-scale search's SQL time.
        "tf AS (SELECT m.id, u.lexeme, length(m.tsv)::float8 AS dl, "
        f"(coalesce(cardinality(array_positions(u.weights, 'A')), 0) * (1 - {CONTEXT_WEIGHT!r}) "
        f"+ coalesce(cardinality(u.weights), 0) * {CONTEXT_WEIGHT!r})::float8 AS tf "
        f"FROM matched m, q, LATERAL unnest({_QUERY_PART}) u), "
        # Exact path: tdf is empty and df counts the matches. Big path: the larger of
        # the capped count and the matches (tdf holds every query lexeme).
        "df AS (SELECT lexeme, greatest(coalesce(tdf.df, 0), count(tf.id))::float8 AS df "
        "FROM tf FULL JOIN tdf USING (lexeme) GROUP BY lexeme, tdf.df), "
        "sparse AS MATERIALIZED (SELECT tf.id, sum(ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5)) "
        f"* tf.tf * ({k1!r} + 1) / (tf.tf + {k1!r} * (1 - {b!r} + {b!r} * tf.dl / s.avgdl))) "
        "AS rank "
        "FROM tf JOIN df USING (lexeme) CROSS JOIN stats s GROUP BY tf.id "
        # The id breaks ties at the last place, so the same search gives the same pool.
        "ORDER BY rank DESC, tf.id LIMIT :pool), "
    )


def _dense_cte(where: str, big_where: str) -> str:
    # Exact path: OFFSET 0 keeps the planner from answering the ORDER BY with the HNSW
    # index; the user's rows come through the user_id index, every distance is computed.
    # Big path: the HNSW index with pgvector's iterative scan (session settings), for
    # at most ``:big_pool`` rows.
    return (
        "(SELECT id, dist FROM (SELECT id, embedding <=> (SELECT v FROM qv) AS dist FROM memories "
        f"WHERE {where} AND embedding IS NOT NULL AND {_VECTORS_SMALL} OFFSET 0) e "
        "ORDER BY dist LIMIT :pool) UNION ALL "
        "(SELECT id, embedding <=> (SELECT v FROM qv) AS dist FROM memories "
        f"WHERE {big_where} AND embedding IS NOT NULL AND {_VECTORS_BIG} "
        "ORDER BY embedding <=> (SELECT v FROM qv) LIMIT :big_pool)"
    )


def _sql(
    filters: SearchFilters,
    *,
    dense: bool,
    sparse: bool,
    with_vectors: bool,
    sizes: dict[str, int],
    own_index_user: bool = False,
) -> str:
    """The statement, with ``sizes`` (pool, big_pool, exact_below, cap, dfcap) as numbers.

    As numbers, not parameters, they let PostgreSQL keep one generic plan for the
    statement (a ``LIMIT $n`` is planned as "10 % of the rows", which made every
    generic plan look worse than a custom one, so each search was planned anew: ~1 ms).

    ``own_index_user``: the user has indexes of their own (``memory.user_index``),
    which the planner uses only for a condition naming the user as a constant; every
    read of their rows then says ``user_id = ~user~``, replaced by the user's id as a
    literal once the parameters are numbered.
    """
    if own_index_user:
        where = big_where = _where(filters, user=f"user_id = {_USER_LITERAL}")
    else:
        where, big_where = _where(filters), _where(filters, user=_BIG_USER)
    # Counted as far as a threshold of the sides searched needs (and no further: each
    # counted row is an index entry read).
    size = (
        "size AS MATERIALIZED (SELECT count(*)::float8 AS n FROM (SELECT 1 FROM memories "
        f"WHERE {where} LIMIT {':count_to' if dense else ':exact_below'}) c), "
    )
    dense_cte = (
        _dense_cte(where, big_where)
        if dense
        else "SELECT NULL::uuid AS id, NULL::float8 AS dist WHERE false"
    )
    sparse_ctes = (
        _bm25_ctes(where)
        if sparse
        else "sparse AS (SELECT NULL::uuid AS id, NULL::float8 AS rank WHERE false), "
    )
    vector = "m.embedding" if with_vectors else "NULL::vector"
    # The query vector is a parameter of one InitPlan, not of each row's comparison.
    query_vector = "qv AS MATERIALIZED (SELECT CAST(:qv AS vector) AS v), " if dense else ""
    sql = (
        f"WITH {size}{query_vector}dense AS MATERIALIZED ({dense_cte}), {sparse_ctes}"
        "cand AS MATERIALIZED (SELECT id, min(dist) AS dist, max(rank) AS rank FROM "
        "(SELECT id, dist, NULL::float8 AS rank FROM dense UNION ALL "
        "SELECT id, NULL::float8, rank FROM sparse) both_sides GROUP BY id) "
        f"SELECT {_COLUMNS}, {vector} AS embedding, c.dist, c.rank FROM cand c "
        # Each candidate's row by its primary key (a subquery per candidate, OFFSET 0
        # keeping it one): joined plainly, a generic plan that estimates the average
        # user (a few rows in a table of many small users) hashed all of this user's
        # rows instead, ~1 ms for a user with a thousand memories. The user check is
        # written so that no index on ``user_id`` can answer it: a generic plan made
        # while the table was small (a new server's first turns) estimated one row per
        # user and walked ``(user_id, …)`` filtering on the id, reading every row of
        # the user for each candidate (~10,000 pages a search at a hundred memories).
        f"CROSS JOIN LATERAL (SELECT {_COLUMNS}{', m.embedding' if with_vectors else ''} "
        "FROM memories m WHERE m.id = c.id AND (m.user_id || '') = :uid OFFSET 0) m"
    )
    for name, value in sizes.items():
        sql = re.sub(rf":{name}\b", str(int(value)), sql)
    return sql


@lru_cache(maxsize=128)
def _statement(
    shape: SearchFilters,
    *,
    dense: bool,
    sparse: bool,
    with_vectors: bool,
    sizes: tuple[tuple[str, int], ...],
    own_index_user: str | None = None,
) -> tuple[str, tuple[str, ...]]:
    """The statement for asyncpg (``$n`` placeholders) and the parameter of each ``$n``.

    Built once per filter shape and sizes (and per user with their own indexes):
    writing it (and SQLAlchemy compiling a ``text()`` of it) cost more CPU per search
    than PostgreSQL spent planning it.
    """
    sql = _sql(
        shape, dense=dense, sparse=sparse, with_vectors=with_vectors, sizes=dict(sizes),
        own_index_user=own_index_user is not None,
    )  # fmt: skip
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    # ``::type`` casts are not parameters: a parameter's colon follows no colon.
    sql = re.sub(r"(?<!:):([a-z_]+)\b", number, sql)
    if own_index_user is not None:  # last: the id may hold anything, ":pool" included
        sql = sql.replace(_USER_LITERAL, own_index_user)
    return sql, tuple(names)


def _shape(filters: SearchFilters) -> SearchFilters:
    """The filters as the statement sees them: which clauses, not their values."""
    return SearchFilters(
        memory_types=("x",) if filters.memory_types else (),
        since=_EPOCH if filters.since is not None else None,
        until=_EPOCH if filters.until is not None else None,
        min_importance=1.0 if filters.min_importance > 0 else 0.0,
        include_superseded=filters.include_superseded,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def fetch_candidates(
    conn: AsyncSession | AsyncConnection,
    *,
    user_id: str,
    vector: Sequence[float] | None,
    tsquery: str | None,
    filters: SearchFilters,
    pool: int = POOL,
    with_vectors: bool = True,
    exact_below: int = EXACT_BELOW,
    exact_vectors_below: int = EXACT_VECTORS_BELOW,
    match_cap: int = MATCH_CAP,
    df_cap: int = DF_CAP,
    big_pool: int = BIG_POOL,
    own_index: bool = False,
    common_words: Sequence[str] = (),
) -> list[Hit]:
    """Dense and full-text candidates of one user (with their stored vectors if asked).

    One statement, one round trip; it needs no transaction (an autocommit connection
    saves the BEGIN and COMMIT). The HNSW settings come with the connection
    (``store.database.VECTOR_SESSION_SETTINGS``). ``exact_below``,
    ``exact_vectors_below`` (the dense side's own threshold, never below ``exact_below``,
    and equal to it for a user with own indexes), ``match_cap``, ``df_cap``
    and ``big_pool`` default to the module's thresholds; the big path's dense side
    returns at most ``min(pool, big_pool)`` rows, the exact path ``pool``.
    ``own_index``: the user has indexes of their own (``memory.user_index``); the
    statement then names them as a constant, so that the planner can use those.
    ``common_words``: lexemes in at least twice ``df_cap`` of the user's current shared
    memories (``memory.common_words``), the most frequent first, taken as reaching the
    cap without a probe (their order picks the rarest when every query word is common);
    used only without type, date and importance filters, under which that count says
    nothing.

    The statement is written once per shape and goes to asyncpg as it is
    (``store.driver.fetch_text``: prepared once per connection), its rows read by
    position: SQLAlchemy's ``text()`` compiling, bind processing and rows of ~200
    candidates cost more CPU than PostgreSQL's work on the statement. The query vector
    and the stored ones travel in pgvector's binary form (``store.vector``'s codec: no
    384 numbers formatted, parsed or checked one by one); the stored ones come back as
    numpy ``float32`` arrays.
    """
    dense, sparse = vector is not None, tsquery is not None
    if not dense and not sparse:
        return []
    params: dict[str, Any] = {
        "uid": user_id,
        "types": list(filters.memory_types),
        "min_importance": filters.min_importance,
        "since": filters.since,
        "until": filters.until,
        "qv": vector,
        "tsq": tsquery,
        "qtext": (tsquery or "").replace("|", " "),
        "common": [] if _filtered(filters) else list(common_words),
    }
    if own_index:
        # Own indexes exist from tens of thousands of memories: the walk is unfiltered
        # and cheap, and counting to ``exact_vectors_below`` would only cost index reads
        # (~4x those of counting to ``exact_below``).
        exact_vectors_below = exact_below
    exact_vectors_below = max(exact_below, exact_vectors_below)
    sizes = (
        ("pool", pool), ("big_pool", min(pool, big_pool)), ("exact_below", exact_below),
        ("vexact_below", exact_vectors_below), ("count_to", exact_vectors_below),
        ("cap", match_cap), ("dfcap", min(df_cap, match_cap)),
    )  # fmt: skip
    sql, names = _statement(
        _shape(filters), dense=dense, sparse=sparse, with_vectors=with_vectors, sizes=sizes,
        own_index_user=sql_literal(user_id) if own_index else None,
    )  # fmt: skip
    rows = await driver.fetch_text(conn, sql, [params[name] for name in names])
    return [_hit(row) for row in rows]


def _filtered(filters: SearchFilters) -> bool:
    """Whether the filters can leave out current shared memories of the user."""
    return bool(
        filters.memory_types or filters.since or filters.until or filters.min_importance > 0
    )


def _hit(row: Any) -> Hit:
    (id_, content, memory_type, importance, created_at, valid_from, invalid_at, event_at,
     messages, external, speaker, document_id, embedding, dist, rank) = row  # fmt: skip
    return Hit(
        id=id_,
        content=content,
        memory_type=memory_type,
        importance=float(importance),
        created_at=created_at,
        valid_from=valid_from,
        invalid_at=invalid_at,
        event_at=event_at,
        # asyncpg gives each row lists of its own (None for a NULL array).
        source_message_ids=[] if messages is None else messages,
        source_external_ids=[] if external is None else external,
        speaker=speaker,
        document_id=document_id,
        vector=embedding,  # a numpy float32 array (the binary codec's), or None
        similarity=None if dist is None else 1.0 - float(dist),
        text_rank=None if rank is None else float(rank),
    )
