"""Load the score's inputs for many users with one SQL statement (no per-user queries).

The statement aggregates, per user: the 30-day activity histogram read at the
current local hour and weekday (C-27), 7-day interaction stats (PRO-09), the needs
grown to ``now`` with the personality domain's rates, the current personality row,
and the proactive history the hard limits need. It returns one row of arrays
(``array_agg`` per column), which numpy turns into ``Features`` without a Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from companion.personality.core import NEED_RATES
from companion.proactive.core import Features, in_quiet_hours, parse_quiet_hours

__all__ = ["NEED_ORDER", "UserContext", "load_features"]

NEED_ORDER = ("social", "validation", "intellectual", "creative", "rest")
_TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")

_NEED_COLS = ",\n".join(
    f"max(least(1.0, n.current_level + greatest(0, extract(epoch FROM :now - n.last_updated)"
    f" / 3600.0) * {NEED_RATES.get(t, 0.02)})) FILTER (WHERE n.need_type = '{t}') AS lv_{t},\n"
    f"max(n.trigger_threshold) FILTER (WHERE n.need_type = '{t}') AS th_{t},\n"
    f"max(n.proactive_weight) FILTER (WHERE n.need_type = '{t}') AS w_{t}"
    for t in NEED_ORDER
)

_SQL = f"""
WITH tzn AS MATERIALIZED (SELECT name FROM pg_timezone_names),
u AS MATERIALIZED (
  SELECT us.id, COALESCE(t.name, 'UTC') AS tz, us.quiet_hours,
         us.proactive_messaging_enabled AS enabled,
         (us.status = 'suspended' OR us.security_level >= 3) AS suspended,
         us.last_active
  FROM users us LEFT JOIN tzn t ON t.name = us.timezone
  WHERE us.status IN ('active', 'suspended')
    AND us.last_active >= :now - interval '30 days'
    AND (CAST(:ids AS text[]) IS NULL OR us.id = ANY(CAST(:ids AS text[])))
),
ul AS MATERIALIZED (
  SELECT u.*, (:now AT TIME ZONE u.tz) AS local_now,
         (date_trunc('day', :now AT TIME ZONE u.tz) AT TIME ZONE u.tz) AS local_midnight
  FROM u
),
act AS (
  SELECT i.user_id,
         extract(hour FROM i.timestamp AT TIME ZONE ul.tz) AS h,
         extract(isodow FROM i.timestamp AT TIME ZONE ul.tz) AS d,
         extract(hour FROM ul.local_now) AS now_h,
         extract(isodow FROM ul.local_now) AS now_d,
         i.timestamp
  FROM interactions i JOIN ul ON ul.id = i.user_id
  WHERE i.timestamp >= :now - interval '30 days' AND i.timestamp <= :now
    AND NOT i.is_proactive
),
hh AS (SELECT user_id, h, max(now_h) AS now_h, count(*) AS c FROM act GROUP BY 1, 2),
dd AS (SELECT user_id, d, max(now_d) AS now_d, count(*) AS c FROM act GROUP BY 1, 2),
ha AS (
  SELECT user_id, max(c) AS hour_max, sum(c) AS samples,
         coalesce(sum(c) FILTER (WHERE h = now_h), 0) AS hour_count
  FROM hh GROUP BY 1
),
da AS (
  SELECT user_id, max(c) AS day_max,
         coalesce(sum(c) FILTER (WHERE d = now_d), 0) AS day_count
  FROM dd GROUP BY 1
),
last_act AS (SELECT user_id, max(timestamp) AS ts FROM act GROUP BY 1),
w7 AS (
  SELECT i.user_id, i.is_proactive,
         i.timestamp - lag(i.timestamp) OVER (PARTITION BY i.user_id ORDER BY i.timestamp) AS gap
  FROM interactions i JOIN ul ON ul.id = i.user_id
  WHERE i.timestamp >= :now - interval '7 days' AND i.timestamp <= :now
),
st AS (
  SELECT user_id,
         count(*) FILTER (WHERE NOT is_proactive AND (gap IS NULL OR gap > interval '2 hours'))
           AS user_starts,
         count(*) FILTER (WHERE is_proactive) AS companion_starts
  FROM w7 GROUP BY 1
),
cv AS (
  SELECT c.user_id, avg(c.message_count) AS avg_len
  FROM conversations c JOIN ul ON ul.id = c.user_id
  WHERE c.last_activity >= :now - interval '7 days'
  GROUP BY 1
),
nd AS (
  SELECT n.user_id, {_NEED_COLS}
  FROM needs n JOIN ul ON ul.id = n.user_id GROUP BY 1
),
pd AS (
  SELECT d.user_id, d.sent_at, d.declined_at,
         (d.replied_at <= least(:now, d.sent_at + interval '12 hours')
          OR d.declined_at <= :now) AS answered,
         row_number() OVER (PARTITION BY d.user_id ORDER BY d.sent_at DESC) AS rn,
         ul.local_midnight
  FROM proactive_decisions d JOIN ul ON ul.id = d.user_id
  WHERE d.sent_at IS NOT NULL AND d.sent_at >= :now - interval '8 days' AND d.sent_at <= :now
),
pa AS (
  SELECT user_id,
         max(sent_at) FILTER (WHERE rn = 1) AS last_sent,
         coalesce(bool_or(answered) FILTER (WHERE rn = 1), false) AS last_answered,
         coalesce(bool_or(NOT coalesce(answered, false)) FILTER (WHERE rn = 2), false)
           AS prev_unanswered,
         max(declined_at) FILTER (WHERE declined_at <= :now) AS last_decline,
         count(*) FILTER (WHERE sent_at >= local_midnight) AS sent_today,
         count(*) FILTER (WHERE sent_at >= :now - interval '7 days'
                          AND sent_at <= :now - interval '12 hours') AS known7,
         count(*) FILTER (WHERE sent_at >= :now - interval '7 days'
                          AND sent_at <= :now - interval '12 hours'
                          AND coalesce(answered, false)) AS answered7
  FROM pd GROUP BY 1
),
rows AS (
  SELECT ul.id, ul.quiet_hours, ul.enabled, ul.suspended, ul.tz,
         (extract(hour FROM ul.local_now) * 60 + extract(minute FROM ul.local_now))::int
           AS local_minute,
         coalesce(ha.hour_count, 0)::float8 AS hour_count,
         coalesce(ha.hour_max, 0)::float8 AS hour_max,
         coalesce(da.day_count, 0)::float8 AS day_count,
         coalesce(da.day_max, 0)::float8 AS day_max,
         coalesce(ha.samples, 0)::float8 AS samples,
         extract(epoch FROM :now - coalesce(last_act.ts, ul.last_active)) / 3600.0
           AS hours_since_activity,
         CASE WHEN coalesce(pa.known7, 0) > 0 THEN pa.answered7::float8 / pa.known7
              ELSE 0.5 END AS response_rate,
         coalesce(cv.avg_len, 3)::float8 AS avg_len,
         CASE WHEN coalesce(st.user_starts, 0) + coalesce(st.companion_starts, 0) > 0
              THEN st.user_starts::float8 / (st.user_starts + st.companion_starts)
              ELSE 0.5 END AS initiation_ratio,
         (st.user_id IS NOT NULL) AS has_history,
         {", ".join(f"nd.lv_{t}, nd.th_{t}, nd.w_{t}" for t in NEED_ORDER)},
         {", ".join(f"ps.{t}" for t in _TRAITS)},
         ps.pleasure, ps.arousal, ps.dominance, ps.emotion_label,
         coalesce(pa.sent_today, 0)::int AS sent_today,
         extract(epoch FROM :now - pa.last_sent) / 3600.0 AS hours_since_proactive,
         coalesce(pa.last_answered, false) AS last_answered,
         extract(epoch FROM :now - pa.last_decline) / 3600.0 AS hours_since_decline,
         coalesce(pa.prev_unanswered, false) AS prev_unanswered
  FROM ul
  LEFT JOIN ha ON ha.user_id = ul.id
  LEFT JOIN da ON da.user_id = ul.id
  LEFT JOIN last_act ON last_act.user_id = ul.id
  LEFT JOIN st ON st.user_id = ul.id
  LEFT JOIN cv ON cv.user_id = ul.id
  LEFT JOIN nd ON nd.user_id = ul.id
  LEFT JOIN personality_state ps ON ps.user_id = ul.id AND ps.is_current
  LEFT JOIN pa ON pa.user_id = ul.id
)
SELECT array_agg(id ORDER BY id) AS user_id, {{aggs}} FROM rows
"""

_COLUMNS = (
    "quiet_hours", "enabled", "suspended", "tz", "local_minute", "hour_count", "hour_max",
    "day_count", "day_max", "samples", "hours_since_activity", "response_rate", "avg_len",
    "initiation_ratio", "has_history",
    *(f"{p}_{t}" for t in NEED_ORDER for p in ("lv", "th", "w")),
    *_TRAITS, "pleasure", "arousal", "dominance", "emotion_label", "sent_today",
    "hours_since_proactive", "last_answered", "hours_since_decline", "prev_unanswered",
)  # fmt: skip
SQL = _SQL.replace(":now", "CAST(:now AS timestamptz)").replace(
    "{aggs}", ", ".join(f"array_agg({c} ORDER BY id) AS {c}" for c in _COLUMNS)
)


class UserContext:
    """Per-user values of a pass that the message step needs (not the score)."""

    def __init__(self, columns: dict[str, Any]) -> None:
        self._columns = columns

    def get(self, name: str, index: int) -> Any:
        """Column ``name`` of user ``index``."""
        return self._columns[name][index]


@lru_cache(maxsize=256)
def _quiet(spec: str) -> tuple[int, int]:
    try:
        return parse_quiet_hours(spec)
    except ValueError:
        return parse_quiet_hours("23-08")


def _floats(values: Sequence[Any] | None) -> np.ndarray:
    return np.array(values or [], dtype=np.float64)


def _bools(values: Sequence[Any] | None) -> np.ndarray:
    return np.array([bool(v) for v in values or []], dtype=bool)


async def load_features(
    conn: AsyncConnection,
    *,
    now: datetime,
    default_quiet_hours: str,
    user_ids: Sequence[str] | None = None,
) -> tuple[Features, UserContext]:
    """Every active user's (or ``user_ids``') features as of ``now``."""
    params = {"now": now, "ids": list(user_ids) if user_ids is not None else None}
    row = (await conn.execute(text(SQL), params)).mappings().one()
    cols: dict[str, Any] = {k: (v or []) for k, v in row.items()}
    n = len(cols["user_id"])
    specs = [_quiet(q or default_quiet_hours) for q in cols["quiet_hours"]]
    starts = np.array([s for s, _ in specs], dtype=np.int64).reshape(n)
    ends = np.array([e for _, e in specs], dtype=np.int64).reshape(n)
    need = {p: np.column_stack([_floats(cols[f"{p}_{t}"]) for t in NEED_ORDER]).reshape(n, 5)
            for p in ("lv", "th", "w")}  # fmt: skip
    features = Features(
        user_ids=np.array(cols["user_id"], dtype=object),
        need_levels=need["lv"],
        need_thresholds=np.nan_to_num(need["th"], nan=0.8),
        need_weights=np.nan_to_num(need["w"], nan=1.0),
        hour_count=_floats(cols["hour_count"]),
        hour_max=_floats(cols["hour_max"]),
        day_count=_floats(cols["day_count"]),
        day_max=_floats(cols["day_max"]),
        samples=_floats(cols["samples"]),
        hours_since_activity=_floats(cols["hours_since_activity"]),
        response_rate=_floats(cols["response_rate"]),
        avg_conversation_length=_floats(cols["avg_len"]),
        initiation_ratio=_floats(cols["initiation_ratio"]),
        has_history=_bools(cols["has_history"]),
        traits={t: _floats(cols[t]) for t in _TRAITS},
        pad=(_floats(cols["pleasure"]), _floats(cols["arousal"]), _floats(cols["dominance"])),
        suspended=_bools(cols["suspended"]),
        enabled=_bools(cols["enabled"]),
        quiet=in_quiet_hours(np.array(cols["local_minute"], dtype=np.int64), starts, ends),
        sent_today=np.array(cols["sent_today"], dtype=np.int64),
        hours_since_proactive=_floats(cols["hours_since_proactive"]),
        last_answered=_bools(cols["last_answered"]),
        hours_since_decline=_floats(cols["hours_since_decline"]),
        previous_unanswered=_bools(cols["prev_unanswered"]),
    )
    return features, UserContext(cols)
