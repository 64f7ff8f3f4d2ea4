"""Proactive: one proactive pass over many users, and reflection speed.

Runs in a scratch database on the embedded PostgreSQL (dropped afterwards), so it
never touches real data. Users, needs, personality rows, conversations, 30 days of
interactions and earlier proactive messages are generated with SQL. Measures the
pass in its phases — the one feature query, the numpy scoring and limits, the bulk
insert of every decision — and the nightly reflection (consolidation, drift, quirks,
style) in users per minute on the rule paths. Prints Markdown for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from companion.settings import Settings

__all__ = ["run"]

_ZONES = "ARRAY['UTC','Europe/Berlin','America/New_York','Asia/Tokyo','Australia/Sydney'," \
    "'America/Los_Angeles','Asia/Kolkata']"  # fmt: skip

_GENERATE = [
    f"""INSERT INTO users (id, timezone, last_active, proactive_messaging_enabled, status,
        quiet_hours)
    SELECT 'bench:' || g, ({_ZONES})[1 + g % 7], now() - (g % 48) * interval '1 hour',
           g % 20 <> 0, CASE WHEN g % 97 = 0 THEN 'suspended' ELSE 'active' END,
           CASE WHEN g % 10 = 0 THEN '22-07' END
    FROM generate_series(1, :n) g""",
    """INSERT INTO companions (id, user_id, is_active, openness, conscientiousness,
        extraversion, agreeableness, neuroticism)
    SELECT g, 'bench:' || g, true, random(), random(), random(), random(), random()
    FROM generate_series(1, :n) g""",
    """INSERT INTO needs (user_id, companion_id, need_type, current_level, last_updated)
    SELECT 'bench:' || g, g, t, 0.5 + random() * 0.5, now() - interval '1 hour'
    FROM generate_series(1, :n) g,
         unnest(ARRAY['social','validation','intellectual','creative','rest']) t""",
    """INSERT INTO personality_state (user_id, companion_id, openness, conscientiousness,
        extraversion, agreeableness, neuroticism, pleasure, arousal, dominance, emotion_label)
    SELECT 'bench:' || g, g, random(), random(), random(), random(), random(),
           random() * 2 - 1, random() * 2 - 1, random() * 2 - 1, 'neutral'
    FROM generate_series(1, :n) g""",
    """INSERT INTO style_trait_versions (user_id, companion_id, version, warmth, curiosity,
        assertiveness, humor, emotional_depth, reason)
    SELECT 'bench:' || g, g, 1, 70, 60, 50, 50, 60, 'bench' FROM generate_series(1, :n) g""",
    "SELECT setval(pg_get_serial_sequence('companions', 'id'), :n)",
    """INSERT INTO conversations (id, user_id, channel, last_activity, message_count)
    SELECT gen_random_uuid(), 'bench:' || g, 'api', now() - (g % 72) * interval '1 hour', 2 + g % 15
    FROM generate_series(1, :n) g""",
    """INSERT INTO interactions (user_id, timestamp, user_message, agent_response)
    SELECT 'bench:' || g,
           now() - (i % 30) * interval '1 day' - ((g % 24) + (i % 3)) * interval '1 hour',
           'hello', 'hi there'
    FROM generate_series(1, :n) g, generate_series(1, :k) i""",
    """INSERT INTO proactive_decisions (user_id, evaluated_at, score, should_initiate, reason,
        sent_at, replied_at)
    SELECT 'bench:' || g, s, 0.7, true, 'bench', s,
           CASE WHEN g % 3 = 0 THEN s + interval '1 hour' END
    FROM generate_series(1, :n, 10) g,
         LATERAL (SELECT now() - (g % 60) * interval '1 hour' AS s) x""",
    "ANALYZE",
]


async def _generate(runtime: Any, users: int, per_user: int) -> float:
    from sqlalchemy import text

    start = time.perf_counter()
    async with runtime.db.engine.begin() as conn:
        for sql in _GENERATE[:-1]:
            await conn.execute(text(sql), {"n": users, "k": per_user})
    async with runtime.db.engine.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("ANALYZE"))
    return time.perf_counter() - start


async def _pass(runtime: Any) -> dict[str, float]:
    from companion.proactive.core import evaluate
    from companion.proactive.decisions import insert_decisions, match_replies
    from companion.proactive.features import load_features
    from companion.proactive.patterns import refresh_patterns

    service = runtime.proactive
    now = datetime.now(UTC)
    threshold = service.settings.proactive_threshold
    start = time.perf_counter()
    async with runtime.db.engine.begin() as conn:
        await refresh_patterns(conn, now=now)  # the 15-minute job, timed apart
    refresh = time.perf_counter() - start
    t0 = time.perf_counter()
    async with runtime.db.engine.begin() as conn:
        await match_replies(conn, now=now)
        features, _ = await load_features(
            conn, now=now, default_quiet_hours=service.settings.default_quiet_hours
        )
        t1 = time.perf_counter()
        ev = evaluate(features, limits=service.limits, threshold=threshold)
        t2 = time.perf_counter()
        acting = await insert_decisions(conn, ev, now=now, threshold=threshold, source="bench")
        t3 = time.perf_counter()
    return {
        "users": float(len(features.user_ids)),
        "refresh": refresh,
        "load": t1 - t0,
        "score": t2 - t1,
        "insert": t3 - t2,
        "total": t3 - t0,
        "initiate": float(len(acting)),
    }


async def _reflection(runtime: Any, users: int) -> dict[str, float]:
    from sqlalchemy import text

    from companion.jobs import JobRunner

    ids = [f"reflect:{i}" for i in range(1, users + 1)]
    async with runtime.db.engine.begin() as conn:
        # The pass's generated users have companions too; the reflection measures its own.
        await conn.execute(text("UPDATE users SET status = 'inactive' WHERE id LIKE 'bench:%'"))
        await conn.execute(
            text(
                "INSERT INTO users (id, last_active) "
                "SELECT u, now() FROM unnest(CAST(:ids AS text[])) u"
            ),
            {"ids": ids},
        )
    for user_id in ids:  # creates the companion rows the nightly jobs reflect on
        await runtime.personality.load_state(user_id=user_id)
    dims = runtime.settings.llm.vector_dimensions
    async with runtime.db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO memories (id, user_id, memory_type, content, content_hash, embedding,"
                " importance) SELECT gen_random_uuid(), u, 'episodic',"
                " 'walked the dog at the beach ' || i,"
                " md5(u || i), (SELECT array_agg(CASE WHEN d = i THEN 0.2 ELSE 0.05 END)"
                f" FROM generate_series(1, {dims}) d)::vector, 0.6"
                " FROM unnest(CAST(:ids AS text[])) u, generate_series(1, 6) i"
            ),
            {"ids": ids},
        )
    start = time.perf_counter()
    result = await JobRunner(runtime, pause=0).run("reflection")
    seconds = time.perf_counter() - start
    done = float(result.get("users", 0))
    return {"users": done, "seconds": seconds, "per_minute": done / seconds * 60 if seconds else 0,
            "semantic": float(result.get("counts", {}).get("semantic_created", 0))}  # fmt: skip


async def _run(
    settings: Settings, users: int, per_user: int, passes: int, reflect: int
) -> list[str]:
    from companion.runtime import Runtime
    from companion.store.embedded import EmbeddedPostgres
    from companion.store.migrate import upgrade

    server = EmbeddedPostgres(settings.core.companion_home)
    server.start()
    name = f"bench_proactive_{os.getpid()}"
    server.create_database(name)
    try:
        url = server.url(name)
        await upgrade(url, vector_dimensions=settings.llm.vector_dimensions)
        os.environ["DATABASE_URL"] = url
        from companion.settings import load_settings

        runtime = await Runtime.start(load_settings(None), migrate=False)
        try:
            generated = await _generate(runtime, users, per_user)
            runs = [await _pass(runtime) for _ in range(passes)]
            refl = await _reflection(runtime, reflect) if reflect else None
        finally:
            await runtime.close()
    finally:
        server.drop_database(name)
    return _report(users, per_user, generated, runs, refl)


def _report(
    users: int, per_user: int, generated: float, runs: list[dict[str, float]],
    refl: dict[str, float] | None,
) -> list[str]:  # fmt: skip
    lines = [
        f"Proactive pass over {users:,} users ({users * per_user:,} interactions in 30 days, "
        f"5 needs each; data generated with SQL in {generated:.0f} s):",
        "",
        "| pass | users evaluated | replies + feature SQL | score + limits (numpy) "
        "| store decisions | **pass total** | to initiate | pattern refresh (15-min job) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, r in enumerate(runs, 1):
        lines.append(
            f"| {i} | {r['users']:,.0f} | {r['load']:.2f} s | {r['score'] * 1000:.0f} ms | "
            f"{r['insert']:.2f} s | **{r['total']:.2f} s** | {r['initiate']:,.0f} | "
            f"{r['refresh']:.2f} s |"
        )
    if refl is not None:
        lines += [
            "",
            f"Reflection (rule paths: consolidation, drift, quirks, style), {refl['users']:.0f} "
            f"users: {refl['seconds']:.1f} s = **{refl['per_minute']:.0f} users/min** "
            f"({refl['semantic']:.0f} semantic memories made).",
        ]
    return lines


def run(*, settings: Settings, users: int, per_user: int, passes: int, reflect: int) -> str:
    """Time one proactive pass over many users and the nightly reflection."""
    return "\n".join(asyncio.run(_run(settings, users, per_user, passes, reflect)))
