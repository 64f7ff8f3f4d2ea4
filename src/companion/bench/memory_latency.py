"""Search latency at scale and the write path's cost per turn (for ``companion bench memory``).

The bulk rows are synthetic: random vectors and word-salad text made in SQL, inserted
with the HNSW index dropped and rebuilt afterwards (inserting 10⁶ rows through the
index costs ~4 ms each on two cores). Run it on a scratch database only.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from companion.bench.measure import percentile
from companion.conversation.ports import TurnRecord
from companion.memory.service import MemoryService
from companion.store.database import Database
from companion.store.repositories import conversations, users
from companion.types import PAD

__all__ = [
    "build_bulk",
    "ensure_hnsw",
    "fresh_queries",
    "fresh_search_latency",
    "search_latency",
    "write_path_cost",
]

_WORDS = (
    "coffee hiking garden sister brother job office city river park dog cat puppy music "
    "guitar piano movie book novel travel flight beach mountain winter summer birthday "
    "wedding doctor exam school project deadline dinner pizza sushi ramen bakery library "
    "running marathon yoga pottery chess painting camera phone laptop car train bike "
    "friend neighbour parents grandma holiday paris lisbon berlin tokyo rain snow sunset"
).split()
_QUERIES = [
    "what is my dog called", "when is my sister's birthday", "where do I work now",
    "which city did I move to", "what food do I love", "did I pass the exam",
    "what music do I play", "plans for the summer holiday", "my favourite book",
    "how was the marathon", "who is visiting next week", "what did I cook for dinner",
]  # fmt: skip
#: Shapes of the never-seen queries; the slots take words the bulk rows are made of, so
#: the full-text side has matches to rank, as it would for a real user.
_TEMPLATES = (
    "what did I say about the {a} and the {b}", "when did my {a} last mention the {b}",
    "do you remember the {a} near the {b}", "tell me about {a}, {b} and {c}",
    "how was the {a} with my {b}", "where did we talk about the {a} and {c}",
    "what happened with the {a} after the {b}", "did I ever like {a} or {b}",
    "any plans with the {a} for {b}", "the {a} story, the one with {b} and {c}",
)  # fmt: skip


def fresh_queries(n: int, *, seed: int) -> list[str]:
    """``n`` distinct queries from templates and bulk words, drawn with ``seed``.

    With a seed per run, no query string was searched before: neither its embedding
    (cached by text) nor the index pages its vector leads to (kept across restarts by
    autoprewarm) are waiting from an earlier run.
    """
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        a, b, c = rng.sample(_WORDS, 3)
        out[rng.choice(_TEMPLATES).format(a=a, b=b, c=c)] = None
    return list(out)


def _insert_sql(words: list[str]) -> str:
    array = "ARRAY[" + ",".join(f"'{w}'" for w in words) + "]"
    n = len(words)
    content = " || ' ' || ".join(f"({array})[1 + ((g * {p}) % {n})]" for p in (7, 13, 31, 57, 101))
    return (
        "INSERT INTO memories (id, user_id, memory_type, content, content_hash, embedding, "
        "importance, created_at) SELECT gen_random_uuid(), CASE WHEN g < :heavy THEN 'lat:heavy' "
        "WHEN g < :heavy + :medium THEN 'lat:medium' ELSE 'lat:u' || (g % 1000) END, "
        f"'episodic', {content}, 'bulk', "
        "(SELECT array_agg(random() - 0.5)::vector FROM generate_series(1, :dims) WHERE g >= 0), "
        "random(), now() - (g % 365) * interval '1 day' "
        "FROM generate_series(:start, :stop - 1) g"
    )


async def build_bulk(
    db: Database, *, heavy: int, medium: int, total: int, dims: int = 384, chunk: int = 50_000
) -> dict[str, float]:
    """Fill an empty scratch database: one heavy user, one medium, the rest spread out."""
    timings: dict[str, float] = {}
    async with db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO users (id) SELECT 'lat:u' || g FROM generate_series(0, 999) g "
                "UNION ALL SELECT 'lat:heavy' UNION ALL SELECT 'lat:medium' ON CONFLICT DO NOTHING"
            )
        )
        await session.execute(text("DROP INDEX IF EXISTS ix_memories_embedding_hnsw"))
    started = time.perf_counter()
    sql = text(_insert_sql(_WORDS))
    for start in range(0, total, chunk):
        async with db.transaction() as session:
            await session.execute(
                sql,
                {"heavy": heavy, "medium": medium, "dims": dims, "start": start,
                 "stop": min(total, start + chunk)},
            )  # fmt: skip
    timings["insert_s"] = round(time.perf_counter() - started, 1)
    timings["index_s"] = await ensure_hnsw(db)
    return timings


async def ensure_hnsw(db: Database) -> float:
    """Build the HNSW index if it is missing (a cut-off build leaves none); seconds taken."""
    started = time.perf_counter()
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("SET maintenance_work_mem = '4GB'"))
        await conn.execute(text(f"SET max_parallel_maintenance_workers = {BUILD_WORKERS}"))
        await conn.execute(
            text(
                "CREATE INDEX IF NOT EXISTS ix_memories_embedding_hnsw ON memories USING hnsw "
                "(embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
            )
        )
        # VACUUM too: it marks the new pages all-visible, as autovacuum does after a
        # while, so the size count can answer from its index alone.
        await conn.execute(text("VACUUM (ANALYZE) memories"))
    return round(time.perf_counter() - started, 1)


#: Parallel workers of the table-wide HNSW build (besides the leader). On this 2-core
#: machine, shared with other jobs at a load of ~10, the build with one worker loaded
#: ~400 tuples/s and would have taken ~40 min for 1M rows; each process gets its share
#: of the cores, so three workers take a larger share and finish sooner. On an idle
#: machine more workers than cores only add lock traffic on the shared graph.
BUILD_WORKERS = 3


def _percentiles(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples, 0.5), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "n": len(samples),
    }


async def search_latency(memory: MemoryService, *, user_id: str, rounds: int = 5) -> dict[str, Any]:
    """p50/p95 of ``search`` (query embedding included), k = 10, the same queries each run.

    One untimed round of the queries first: the figures are for a server whose
    buffers hold the user's pages. The strings repeat from run to run, so their
    embeddings come from the cache and autoprewarm brings back the pages an earlier
    run read for them: ``fresh_search_latency`` is the honest figure.
    """
    for query in _QUERIES:
        await memory.search(user_id=user_id, query=f"warm up: {query}", k=10)
    samples: list[float] = []
    for i in range(rounds):
        for query in _QUERIES:
            started = time.perf_counter()
            await memory.search(user_id=user_id, query=f"{query} {i}", k=10)
            samples.append((time.perf_counter() - started) * 1000)
    return _percentiles(samples)


async def fresh_search_latency(
    memory: MemoryService, *, user_id: str, seed: int, n: int = 60
) -> dict[str, Any]:
    """p50/p95 of ``search`` (query embedding included), k = 10, on never-seen queries."""
    samples: list[float] = []
    for query in fresh_queries(n, seed=seed):
        started = time.perf_counter()
        await memory.search(user_id=user_id, query=query, k=10)
        samples.append((time.perf_counter() - started) * 1000)
    return _percentiles(samples)


async def write_path_cost(
    memory: MemoryService, db: Database, *, turns: int = 40
) -> dict[str, Any]:
    """Mean and p95 of ``remember_turn`` (importance, facts, embedding, insert)."""
    user_id = f"bench:write:{uuid.uuid4().hex[:6]}"
    async with db.transaction() as session:
        await users.ensure_user(session, user_id=user_id)
        conv = await conversations.get_or_create_conversation(session, user_id=user_id)
    samples = []
    for i in range(turns):
        record = TurnRecord(
            user_id=user_id, conversation_id=conv.id, interaction_id=i, user_message_id=i,
            reply_message_id=i, user_text=f"I went to the {_WORDS[i % len(_WORDS)]} yesterday "
            f"and my sister loved it ({i}).", reply_text="That sounds lovely!",
            created_at=datetime.now(UTC), pad_before=PAD(), pad_after=PAD(),
            emotion="neutral", flagged=False,
        )  # fmt: skip
        started = time.perf_counter()
        await memory.remember_turn(record)
        samples.append((time.perf_counter() - started) * 1000)
    await memory.delete_user(user_id=user_id)
    stats = _percentiles(samples)
    stats["mean_ms"] = round(statistics.fmean(samples), 2)
    return stats
