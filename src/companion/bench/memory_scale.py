"""Memory search at scale: HNSW recall against exact search, and what the server holds.

Used by ``companion bench memory --latency`` on its scratch database. The recall
figure compares, for random unit query vectors, the HNSW top-k of one user (the path
a big user takes, with pgvector's iterative scan) with the exact top-k (every vector
of the user compared), for several ``hnsw.ef_search`` values, so that the value the
search uses is chosen on measured recall and latency. The bulk rows' vectors are
random, HNSW's worst case (no clusters to navigate by): recall on them is a floor, not
what real embeddings get.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text

from companion.memory.user_index import own_index_names, sql_literal
from companion.store.database import Database

__all__ = ["buffer_use", "hnsw_recall", "server_memory", "storage_sizes"]

_EXACT = (
    "SELECT id FROM (SELECT id, embedding <=> CAST(:q AS vector) AS d FROM memories "
    "WHERE user_id = :uid AND invalid_at IS NULL AND embedding IS NOT NULL OFFSET 0) e "
    "ORDER BY d LIMIT :k"
)
#: The search's big-user form (``memory/search.py``): with a plain ``user_id = :uid`` the
#: prepared statement's plan turns generic after five runs and sorts the user's rows
#: through a B-tree, and the "HNSW" figures would be exact search's.
_HNSW = (
    "SELECT id FROM memories WHERE (user_id || '') = :uid AND invalid_at IS NULL "
    "AND embedding IS NOT NULL ORDER BY embedding <=> CAST(:q AS vector) LIMIT :k"
)


def _queries(n: int, dims: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dims))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return ["[" + ",".join(f"{x:.6f}" for x in row) + "]" for row in vectors]


def _own_hnsw(user_id: str) -> str:
    """The big path of a user with their own indexes: the user named as a constant."""
    return _HNSW.replace("(user_id || '') = :uid", f"user_id = {sql_literal(user_id)}")


async def hnsw_recall(
    db: Database,
    *,
    user_id: str,
    ef_values: tuple[int, ...] = (40, 60, 100, 200),
    k: int = 10,
    queries: int = 20,
    dims: int = 384,
    own: bool = False,
) -> list[dict[str, Any]]:
    """Recall@k of the HNSW path against exact search, and its median time, per ef.

    ``own``: through the user's own HNSW index (``memory.user_index``) instead of the
    table-wide one.
    """
    walk, index = _HNSW, "ix_memories_embedding_hnsw"
    if own:
        walk, index = _own_hnsw(user_id), own_index_names(user_id)[0]
    vectors = _queries(queries, dims, seed=11)
    exact: list[set[str]] = []
    async with db.transaction() as session:
        for q in vectors:
            rows = await session.execute(text(_EXACT), {"q": q, "uid": user_id, "k": k})
            exact.append({str(r) for r in rows.scalars()})
    async with db.session() as session:
        plan = "\n".join(
            (await session.execute(text("EXPLAIN " + walk), {"q": vectors[0], "uid": user_id,
                                                             "k": k})).scalars()
        )  # fmt: skip
    through_index = index in plan
    out = []
    for ef in ef_values:
        found, times = 0, []
        async with db.transaction() as session:
            await session.execute(
                text(
                    "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
                    "set_config('hnsw.ef_search', :ef, true)"
                ),
                {"ef": str(ef)},
            )
            for q, truth in zip(vectors, exact, strict=True):
                started = time.perf_counter()
                rows = await session.execute(text(walk), {"q": q, "uid": user_id, "k": k})
                times.append((time.perf_counter() - started) * 1000)
                found += len({str(r) for r in rows.scalars()} & truth)
        total = sum(len(t) for t in exact) or 1
        out.append(
            {"ef_search": ef, "recall": round(found / total, 3),
             "p50_ms": round(statistics.median(times), 2), "through_index": through_index}
        )  # fmt: skip
    return out


async def storage_sizes(db: Database) -> dict[str, Any]:
    """The memories table, its indexes and the server's buffer settings, in MB."""
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT c.relname, pg_total_relation_size(c.oid) / 1048576.0 "
                "FROM pg_class c WHERE c.relname IN ('memories', "
                "'ix_memories_embedding_hnsw', 'ix_memories_user_tsv', 'ix_memories_tsv') "
                "OR c.relname LIKE 'ix\\_mem\\_own\\_%'"
            )
        )
        sizes = {name: round(float(mb), 1) for name, mb in rows.all()}
        for setting in ("shared_buffers", "effective_cache_size", "work_mem"):
            sizes[setting] = (await session.execute(text(f"SHOW {setting}"))).scalar_one()
    return sizes


_BUFFERS = (
    "SELECT coalesce(c.relname, '(other)'), count(*) * 8192 / 1048576.0 FROM pg_buffercache b "
    "LEFT JOIN pg_class c ON b.relfilenode = pg_relation_filenode(c.oid) AND b.reldatabase = "
    "(SELECT oid FROM pg_database WHERE datname = current_database()) AND (c.relname IN "
    "('memories', 'ix_memories_embedding_hnsw', 'ix_memories_user_tsv') "
    "OR c.relname LIKE 'ix\\_mem\\_own\\_%') WHERE b.relfilenode IS NOT NULL GROUP BY 1"
)


async def buffer_use(db: Database) -> dict[str, float]:
    """MB of shared buffers holding pages, in all and per memories relation (pg_buffercache).

    What the searches keep in memory, as opposed to the ``shared_buffers`` setting
    (reserved, touched lazily). Empty when the server lacks ``pg_buffercache``.
    """
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_buffercache"))
        except Exception:  # not shipped with this server
            return {}
        rows = (await conn.execute(text(_BUFFERS))).all()
    used = {str(name): round(float(mb), 1) for name, mb in rows}
    return {"in_use_mb": round(sum(used.values()), 1), **used}


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _children(parent: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The field after the closing parenthesis of the name: state, then ppid.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(parent):
            out.append(int(entry))
    return out


def server_memory(pgdata: Path) -> dict[str, Any]:
    """Proportional set size of the postmaster and its children (Linux /proc), in MB.

    PSS counts each shared page once across the processes that map it, so the sum is
    what the server occupies, shared buffers included as far as they are touched.
    """
    try:
        postmaster = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return {}
    pids = [postmaster, *_children(postmaster)]
    total_kb = sum(_pss_kb(pid) for pid in pids)
    return {"pss_mb": round(total_kb / 1024, 1), "processes": len(pids)}
