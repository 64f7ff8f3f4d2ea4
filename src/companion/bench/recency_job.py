"""What one run of the nightly recency job writes: rows, index entries, WAL, time.

Fills a scratch database (the embedded server in a temporary COMPANION_HOME) with
``--memories`` memories of ``--users`` users, each with a random 384-d vector (so the
HNSW index is as big as real rows make it), a sentence of text and a context, and
counts a ``--accessed`` share of them as retrieved (``memory_access`` rows), made by SQL
rather than by embedding texts. Then it runs ``memory.jobs.recency_decay`` twice, a day
apart (the nightly repeat), and reports for each run what PostgreSQL did
(``companion.bench.pg_stats``: rows updated and how many were HOT, index entries,
HNSW pages touched, WAL records, full-page images and bytes) and the seconds it took.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from companion.bench import pg_stats
from companion.memory.jobs import recency_decay
from companion.settings import get_settings
from companion.store.database import Database
from companion.store.migrate import upgrade

__all__ = ["main"]

_USERS = "INSERT INTO users (id) SELECT 'bench:' || u FROM generate_series(1, :users) u"
_MEMORIES = """
INSERT INTO memories (id, user_id, memory_type, content, content_hash, embedding, context,
                      source_message_ids, created_at)
SELECT gen_random_uuid(), 'bench:' || (g % :users + 1), 'episodic',
       'On day ' || g || ' the user talked about their garden, work and a trip.',
       md5(g::text),
       (SELECT array_agg((random() - 0.5 + g * 0 + i * 0)::real)
        FROM generate_series(1, 384) i)::vector,
       'Said on day ' || g || ' after a question about the weekend.',
       ARRAY[g::bigint], now() - make_interval(days => g % 365)
FROM generate_series(1, :memories) g
"""
_ACCESSED = """
INSERT INTO memory_access (user_id, memory_id, access_count, last_accessed)
SELECT user_id, id, 1, created_at + interval '1 day' FROM memories
WHERE random() < :share
"""


async def _window(db: Database, now: datetime) -> dict[str, Any]:
    async with db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("CHECKPOINT"))
        before = await pg_stats.snapshot(conn, statements=False)
    started = time.perf_counter()
    counts = await recency_decay(db, now=now)
    seconds = time.perf_counter() - started
    await asyncio.sleep(1.0)  # the statistics of the job's closed backend are in
    async with db.engine.connect() as conn:
        after = await pg_stats.snapshot(conn, statements=False)
    report = pg_stats.per_turn(before, after, 1)
    tables = report["tables"]
    return {
        "seconds": round(seconds, 2),
        "job": counts,
        "tables": {name: tables[name] for name in ("memories", "memory_access") if name in tables},
        "index_entries": report["index_entries"],
        "hnsw_pages": report["index_pages"].get("ix_memories_embedding_hnsw", 0),
        "wal": report["wal"],
    }


async def _run(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    settings = get_settings()
    # No pool: the job's connection closes after it, and a closing backend reports
    # its counters at once.
    db = Database.from_settings(settings, pool=False)
    try:
        url = db.engine.url.render_as_string(hide_password=False)
        await upgrade(url, vector_dimensions=384)
        started = time.perf_counter()
        async with db.transaction() as session:
            await session.execute(text(_USERS), {"users": args.users})
            await session.execute(text(_MEMORIES), {"users": args.users, "memories": args.memories})
            await session.execute(text(_ACCESSED), {"share": args.accessed})
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE memories"))
            await conn.execute(text("VACUUM ANALYZE memory_access"))
            accessed = (await conn.execute(text("SELECT count(*) FROM memory_access"))).scalar()
        fill = time.perf_counter() - started
        now = datetime.now(UTC)
        runs = [await _window(db, now + timedelta(days=day)) for day in (0, 1)]
        return {
            "memories": args.memories,
            "users": args.users,
            "accessed": accessed,
            "fill_seconds": round(fill, 1),
            "runs": runs,
        }
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--accessed", type=float, default=0.1, help="share retrieved before")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="companion-bench-"))
    os.environ["COMPANION_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    try:
        result = asyncio.run(_run(args, home))
        result["load_average"] = round(os.getloadavg()[0], 2)
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
