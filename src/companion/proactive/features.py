"""Load the score's inputs for many users with one SQL statement (no per-user queries).

The statement reads, per user: the cached activity pattern (``proactive_activity``,
see ``patterns.py``) at the current local hour and weekday with the 7-day
stats, the live last activity (an index probe, so a user who just talked is
never treated as idle), the *urgent* needs grown to ``now`` with the personality
domain's rates, the current personality row, and the proactive history the hard
limits need. It returns one row of arrays (``array_agg`` per column), which numpy
turns into ``Features`` without a Python loop.
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
  FROM users us
  LEFT JOIN tzn t ON t.name = us.timezone
  LEFT JOIN proactive_activity a ON a.user_id = us.id
  WHERE us.status IN ('active', 'suspended')
    AND (us.last_active >= :now - interval '30 days' OR a.user_id IS NOT NULL)
    AND (CAST(:ids AS text[]) IS NULL OR us.id = ANY(CAST(:ids AS text[])))
),
ul AS MATERIALIZED (
  SELECT u.*, (:now AT TIME ZONE u.tz) AS local_now,
         (date_trunc('day', :now AT TIME ZONE u.tz) AT TIME ZONE u.tz) AS local_midnight
  FROM u
),
nd AS (
  SELECT n.user_id, {_NEED_COLS}
  FROM needs n JOIN ul ON ul.id = n.user_id
  JOIN companions c ON c.id = n.companion_id AND c.is_active
  WHERE least(1.0, n.current_level + greatest(0, extract(epoch FROM :now - n.last_updated)
        / 3600.0) * {max(NEED_RATES.values())}) >= n.trigger_threshold
  GROUP BY 1
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
         coalesce((a.hour_counts ->> extract(hour FROM ul.local_now)::int::text)::float8, 0)
           AS hour_count,
         coalesce(a.hour_max, 0)::float8 AS hour_max,
         coalesce((a.day_counts ->> extract(isodow FROM ul.local_now)::int::text)::float8, 0)
           AS day_count,
         coalesce(a.day_max, 0)::float8 AS day_max,
         coalesce(a.samples, 0)::float8 AS samples,
         extract(epoch FROM :now - coalesce(la.ts, a.last_activity, ul.last_active)) / 3600.0
           AS hours_since_activity,
         CASE WHEN coalesce(pa.known7, 0) > 0 THEN pa.answered7::float8 / pa.known7
              ELSE 0.5 END AS response_rate,
         coalesce(a.avg_conversation_length, 3)::float8 AS avg_len,
         CASE WHEN coalesce(a.user_starts_7d, 0) + coalesce(a.companion_starts_7d, 0) > 0
              THEN a.user_starts_7d::float8 / (a.user_starts_7d + a.companion_starts_7d)
              ELSE 0.5 END AS initiation_ratio,
         (coalesce(a.user_starts_7d, 0) + coalesce(a.companion_starts_7d, 0) > 0)
           AS has_history,
         {", ".join(f"nd.lv_{t}, nd.th_{t}, nd.w_{t}" for t in NEED_ORDER)},
         {", ".join(f"ps.{t}" for t in _TRAITS)},
         ps.pleasure, ps.arousal, ps.dominance, ps.emotion_label,
         coalesce(pa.sent_today, 0)::int AS sent_today,
         extract(epoch FROM :now - pa.last_sent) / 3600.0 AS hours_since_proactive,
         coalesce(pa.last_answered, false) AS last_answered,
         extract(epoch FROM :now - pa.last_decline) / 3600.0 AS hours_since_decline,
         coalesce(pa.prev_unanswered, false) AS prev_unanswered
  FROM ul
  LEFT JOIN proactive_activity a ON a.user_id = ul.id
  LEFT JOIN LATERAL (
    SELECT i.timestamp AS ts FROM interactions i
    WHERE i.user_id = ul.id AND NOT i.is_proactive AND i.timestamp <= :now
    ORDER BY i.timestamp DESC LIMIT 1
  ) la ON true
  LEFT JOIN nd ON nd.user_id = ul.id
  LEFT JOIN companions co ON co.user_id = ul.id AND co.is_active
  LEFT JOIN personality_state ps ON ps.companion_id = co.id AND ps.is_current
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
