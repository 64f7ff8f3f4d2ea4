"""Refresh the cached activity patterns of every recently active user (15-minute cache).

One statement scans 30 days of the users' own (non-proactive) interactions, bins them
by hour and ISO weekday *in each user's timezone*, adds the 7-day initiation
stats (a "start" is a turn more than 2 h after the previous one; proactive turns are
the companion's starts) and the 7-day average conversation length, and upserts one
``proactive_activity`` row per user. The ``activity_patterns`` job refreshes it every
``PATTERN_TTL``; a pass refreshes it inline only when that job has not run for twice
as long (or for the users of a manual trigger), so a pass normally reads the small
table and never scans the interaction history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["PATTERN_TTL", "is_stale", "refresh_patterns"]

PATTERN_TTL = timedelta(minutes=15)

_REFRESH = text(
    """
WITH clock AS (SELECT CAST(:now AS timestamptz) AS now),
tzn AS MATERIALIZED (SELECT name FROM pg_timezone_names),
ul AS MATERIALIZED (
  SELECT us.id, COALESCE(t.name, 'UTC') AS tz
  FROM users us LEFT JOIN tzn t ON t.name = us.timezone
  WHERE us.status IN ('active', 'suspended')
    AND (CAST(:ids AS text[]) IS NULL OR us.id = ANY(CAST(:ids AS text[])))
),
act AS (
  SELECT i.user_id, i.timestamp AT TIME ZONE ul.tz AS lt, i.timestamp
  FROM interactions i JOIN ul ON ul.id = i.user_id, clock
  WHERE i.timestamp >= clock.now - interval '30 days' AND i.timestamp <= clock.now
    AND NOT i.is_proactive
),
bins AS (
  SELECT user_id, extract(hour FROM lt)::int AS h, extract(isodow FROM lt)::int AS d,
         count(*) AS c, max(timestamp) AS last_ts
  FROM act GROUP BY 1, 2, 3
),
hours AS (SELECT user_id, h, sum(c) AS c FROM bins GROUP BY 1, 2),
days AS (SELECT user_id, d, sum(c) AS c FROM bins GROUP BY 1, 2),
hh AS (
  SELECT user_id, jsonb_object_agg(h, c) AS counts, max(c) AS mx, sum(c) AS samples
  FROM hours GROUP BY 1
),
dd AS (SELECT user_id, jsonb_object_agg(d, c) AS counts, max(c) AS mx FROM days GROUP BY 1),
last AS (SELECT user_id, max(last_ts) AS ts FROM bins GROUP BY 1),
w7 AS (
  SELECT i.user_id, i.is_proactive,
         i.timestamp - lag(i.timestamp) OVER (PARTITION BY i.user_id ORDER BY i.timestamp) AS gap
  FROM interactions i JOIN ul ON ul.id = i.user_id, clock
  WHERE i.timestamp >= clock.now - interval '7 days' AND i.timestamp <= clock.now
),
st AS (
  SELECT user_id,
         count(*) FILTER (WHERE NOT is_proactive AND (gap IS NULL OR gap > interval '2 hours'))
           AS user_starts,
         count(*) FILTER (WHERE is_proactive) AS companion_starts
  FROM w7 GROUP BY 1
),
cv AS (
  SELECT c.user_id, avg(c.message_count)::float8 AS avg_len
  FROM conversations c JOIN ul ON ul.id = c.user_id, clock
  WHERE c.last_activity >= clock.now - interval '7 days'
  GROUP BY 1
)
INSERT INTO proactive_activity AS pa
  (user_id, timezone, hour_counts, day_counts, hour_max, day_max, samples, last_activity,
   user_starts_7d, companion_starts_7d, avg_conversation_length, refreshed_at)
SELECT ul.id, ul.tz, coalesce(hh.counts, '{}'), coalesce(dd.counts, '{}'),
       coalesce(hh.mx, 0), coalesce(dd.mx, 0), coalesce(hh.samples, 0), last.ts,
       coalesce(st.user_starts, 0), coalesce(st.companion_starts, 0), cv.avg_len, clock.now
FROM ul CROSS JOIN clock
LEFT JOIN hh ON hh.user_id = ul.id
LEFT JOIN dd ON dd.user_id = ul.id
LEFT JOIN last ON last.user_id = ul.id
LEFT JOIN st ON st.user_id = ul.id
LEFT JOIN cv ON cv.user_id = ul.id
WHERE hh.user_id IS NOT NULL OR st.user_id IS NOT NULL OR cv.user_id IS NOT NULL
ON CONFLICT (user_id) DO UPDATE SET
  timezone = EXCLUDED.timezone, hour_counts = EXCLUDED.hour_counts,
  day_counts = EXCLUDED.day_counts, hour_max = EXCLUDED.hour_max, day_max = EXCLUDED.day_max,
  samples = EXCLUDED.samples, last_activity = EXCLUDED.last_activity,
  user_starts_7d = EXCLUDED.user_starts_7d, companion_starts_7d = EXCLUDED.companion_starts_7d,
  avg_conversation_length = EXCLUDED.avg_conversation_length,
  refreshed_at = EXCLUDED.refreshed_at
"""
)

_DROP_IDLE = text(
    "DELETE FROM proactive_activity WHERE refreshed_at < CAST(:now AS timestamptz) "
    "AND (CAST(:ids AS text[]) IS NULL OR user_id = ANY(CAST(:ids AS text[])))"
)

_OLDEST = text("SELECT min(refreshed_at), max(refreshed_at) FROM proactive_activity")


async def is_stale(conn: AsyncConnection, *, now: datetime) -> bool:
    """Whether the cache is empty, older than twice ``PATTERN_TTL``, or from the future."""
    oldest, newest = (await conn.execute(_OLDEST)).one()
    if oldest is None:
        return True
    return bool(now - oldest >= 2 * PATTERN_TTL or newest > now)


async def refresh_patterns(
    conn: AsyncConnection, *, now: datetime, user_ids: list[str] | None = None
) -> int:
    """Recompute the patterns (of ``user_ids``, or of everyone); returns rows written."""
    params = {"now": now, "ids": user_ids}
    result = await conn.execute(_REFRESH, params)
    await conn.execute(_DROP_IDLE, params)  # users without activity in 30 days
    return int(result.rowcount)
