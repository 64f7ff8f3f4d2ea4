"""A very large user's own indexes: an HNSW graph and a full-text GIN over their rows alone.

The table-wide indexes serve every user through a filter. For a user who holds a tenth
of a 1M-row table, the filtered HNSW walk visits about ten other people's rows for each
of theirs and reads every one of them to check its owner, and each full-text probe
intersects the word's posting list with the user's whole one (100k entries) in the
``(user_id, tsv)`` GIN. Partial indexes ``WHERE user_id = '<the user>'`` hold only the
user's rows: the walk needs no owner check and each probe reads only the word's entries.

They cost what they hold (a 100k-row HNSW graph is ~200 MB, on top of the table-wide
one) and every insert of that user updates both graphs, so only users at or above
``OWN_INDEX_FROM`` memories get them; a user who falls below half of that (deletions,
retention) loses them. ``ensure_user_indexes`` (the nightly ``user_indexes`` job) builds
and drops them, ``CONCURRENTLY``, so writes go on meanwhile; ``OwnIndexes`` tells the
search which users have a finished pair, from the catalogue, re-read once a minute.

The search writes such a user's id into its statement as a literal (the planner uses
a partial index only when the query's own condition proves its predicate, which a
parameter of a generic plan cannot), so each of these users has a statement of their
own, prepared once per connection.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = [
    "OWN_INDEX_FROM",
    "OwnIndexes",
    "ensure_user_indexes",
    "own_index_names",
    "sql_literal",
]

log = logging.getLogger(__name__)

#: Current memories from which a user gets their own indexes (and half of it, below
#: which they lose them). Far above the exact-search threshold: only users whose
#: filtered walk of the shared graph costs tens of ms are worth a second graph.
OWN_INDEX_FROM = 50_000
#: How long the search trusts its list of users with their own indexes.
REFRESH_SECONDS = 60.0

_PREFIX_HNSW, _PREFIX_GIN = "ix_mem_own_hnsw_", "ix_mem_own_tsv_"


def own_index_names(user_id: str) -> tuple[str, str]:
    """The names of the user's HNSW and GIN indexes (a digest: ids may hold anything)."""
    digest = hashlib.sha256(user_id.encode()).hexdigest()[:24]
    return _PREFIX_HNSW + digest, _PREFIX_GIN + digest


def sql_literal(value: str) -> str:
    """``value`` as a PostgreSQL string literal (standard quoting: quotes doubled)."""
    if "\x00" in value:
        raise ValueError("a NUL byte cannot be in a PostgreSQL string")
    return "'" + value.replace("'", "''") + "'"


_VALID = (
    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "WHERE i.indrelid = to_regclass('memories') AND i.indisvalid AND i.indisready "
    "AND (c.relname LIKE :hnsw OR c.relname LIKE :gin)"
)


class OwnIndexes:
    """Which users have both of their own indexes built, as the search needs to know.

    Read from the catalogue at most every ``REFRESH_SECONDS``: a new pair is used a
    minute after its nightly build at the latest; a dropped one is noticed as late, and
    meanwhile that user's statement still runs, through the shared indexes.
    """

    def __init__(self, engine: AsyncEngine, *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self._engine = engine
        self._refresh = refresh_seconds
        self._names: frozenset[str] = frozenset()
        self._read_at = -float("inf")

    async def has(self, user_id: str) -> bool:
        """Whether the user's own HNSW and GIN indexes are both ready."""
        if time.monotonic() - self._read_at > self._refresh:
            await self.reload()
        hnsw, gin = own_index_names(user_id)
        return hnsw in self._names and gin in self._names

    async def reload(self) -> None:
        """Read the list now (after building or dropping indexes in this process)."""
        self._read_at = time.monotonic()
        try:
            async with self._engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                rows = await conn.execute(
                    text(_VALID), {"hnsw": _PREFIX_HNSW + "%", "gin": _PREFIX_GIN + "%"}
                )
                self._names = frozenset(rows.scalars())
        except Exception as exc:  # the search still works through the shared indexes
            log.warning("own-index list not read: %s", exc)


_BIG_USERS = (
    "SELECT user_id, count(*) FROM memories WHERE invalid_at IS NULL "
    "GROUP BY user_id HAVING count(*) >= :low"
)
_EXISTING = (
    "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "WHERE i.indrelid = to_regclass('memories') AND (c.relname LIKE :hnsw OR c.relname LIKE :gin)"
)


async def ensure_user_indexes(
    engine: AsyncEngine, *, threshold: int = OWN_INDEX_FROM
) -> dict[str, Any]:
    """Build the own indexes of users at or above ``threshold``, drop those below half.

    Idempotent. ``CREATE INDEX CONCURRENTLY`` lets the user's writes go on; a build cut
    short leaves an invalid index, which is dropped and built again on the next run.
    Returns counts and the seconds the builds took.
    """
    counts: dict[str, Any] = {"built": 0, "dropped": 0, "kept": 0, "build_s": 0.0}
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        low = {"low": max(1, threshold // 2)}
        sizes: dict[str, int] = {
            str(user): int(n) for user, n in (await conn.execute(text(_BIG_USERS), low)).all()
        }
        patterns = {"hnsw": _PREFIX_HNSW + "%", "gin": _PREFIX_GIN + "%"}
        existing: dict[str, bool] = {
            str(name): bool(valid)
            for name, valid in (await conn.execute(text(_EXISTING), patterns)).all()
        }
        wanted: set[str] = set()
        for user_id, n in sizes.items():
            names = own_index_names(user_id)
            has_both = all(existing.get(name) for name in names)
            if n >= threshold or has_both:  # between half and the threshold: kept as is
                wanted.update(names)
        for name, valid in existing.items():
            if name not in wanted or not valid:
                await conn.execute(text(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"'))
                counts["dropped"] += 1
        started = time.perf_counter()
        for user_id, n in sorted(sizes.items()):
            hnsw, gin = own_index_names(user_id)
            if hnsw not in wanted:
                continue
            built = False
            for name, method in ((hnsw, _HNSW_METHOD), (gin, _GIN_METHOD)):
                if existing.get(name):
                    continue
                where = f"user_id = {sql_literal(user_id)}"
                await conn.execute(
                    text(f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON memories '
                         f"{method} WHERE {where}")
                )  # fmt: skip
                built = True
            if built:
                counts["built"] += 1
                log.info("own indexes built", extra={"memories": n})
            else:
                counts["kept"] += 1
        counts["build_s"] = round(time.perf_counter() - started, 1)
    return counts


#: The same graph parameters as the table-wide index (migration 0004).
_HNSW_METHOD = "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
_GIN_METHOD = "USING gin (tsv) WITH (gin_pending_list_limit = 64)"
