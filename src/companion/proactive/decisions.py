"""Reading and writing ``proactive_decisions`` (every evaluation, its thought, its delivery).

Bulk statements take arrays (``unnest``) so a pass over 100k users is one INSERT.
Replies are matched lazily: a sent message's ``replied_at`` is the user's first
non-proactive interaction after it (checked at the start of every pass).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from companion.errors import NotFound
from companion.proactive.core import Evaluation
from companion.proactive.models import ProactiveDecision

__all__ = [
    "decision_view",
    "insert_decisions",
    "list_decisions",
    "mark_declined",
    "match_replies",
    "record_outcome",
]

_MATCH = text(
    """
UPDATE proactive_decisions d SET replied_at = r.ts
FROM (
  SELECT d2.id, min(i.timestamp) AS ts
  FROM proactive_decisions d2
  JOIN interactions i ON i.user_id = d2.user_id AND i.timestamp > d2.sent_at
                     AND NOT i.is_proactive AND i.timestamp <= CAST(:now AS timestamptz)
  WHERE d2.sent_at IS NOT NULL AND d2.replied_at IS NULL
    AND d2.sent_at >= CAST(:now AS timestamptz) - interval '3 days'
  GROUP BY d2.id
) r
WHERE d.id = r.id
"""
)

_INSERT = text(
    """
INSERT INTO proactive_decisions
  (user_id, evaluated_at, score, factors, should_initiate, reason, blocked_by, source)
SELECT t.user_id, CAST(:now AS timestamptz), t.score,
       jsonb_build_object('need', t.need, 'timing', t.timing, 'pattern', t.pattern,
                          'personality', t.personality, 'penalty', t.penalty, 'trigger', t.trig),
       t.initiate, t.reason, t.blocked, :source
FROM unnest(CAST(:user_id AS text[]), CAST(:score AS float8[]), CAST(:need AS float8[]),
            CAST(:timing AS float8[]), CAST(:pattern AS float8[]),
            CAST(:personality AS float8[]), CAST(:penalty AS float8[]), CAST(:trig AS text[]),
            CAST(:initiate AS bool[]), CAST(:reason AS text[]), CAST(:blocked AS text[]))
  AS t(user_id, score, need, timing, pattern, personality, penalty, trig, initiate, reason, blocked)
"""
)
_RETURNING = text(_INSERT.text + " RETURNING id, user_id")


async def match_replies(conn: AsyncConnection, *, now: datetime) -> int:
    """Set ``replied_at`` on sent messages the user has answered since; returns how many."""
    result = await conn.execute(_MATCH, {"now": now})
    return int(result.rowcount)


def _reasons(ev: Evaluation, *, threshold: float) -> list[str]:
    blocked = ev.blocked_by
    out: list[str] = []
    for i in range(len(ev.user_ids)):
        if blocked[i] is not None:
            out.append(f"blocked by {blocked[i]}")
        elif ev.initiate[i]:
            out.append(f"score >= {threshold:.2f} ({ev.trigger[i]})")
        else:
            out.append(f"score < {threshold:.2f}")
    return out


async def insert_decisions(
    conn: AsyncConnection,
    ev: Evaluation,
    *,
    now: datetime,
    threshold: float,
    source: str,
) -> dict[str, int]:
    """Store every evaluation; returns ``{user_id: decision_id}`` of those to initiate."""
    if len(ev.user_ids) == 0:
        return {}
    acting = ev.initiate
    if (~acting).any():
        params = _params(ev, ~acting, now=now, threshold=threshold, source=source)
        await conn.execute(_INSERT, params)
    if not acting.any():
        return {}
    params = _params(ev, acting, now=now, threshold=threshold, source=source)
    rows = await conn.execute(_RETURNING, params)
    return {row.user_id: int(row.id) for row in rows}


def _params(
    ev: Evaluation, mask: Any, *, now: datetime, threshold: float, source: str
) -> dict[str, Any]:
    def r4(values: Any) -> list[float]:
        return [round(v, 4) for v in values[mask].tolist()]

    return {
        "now": now,
        "source": source,
        "user_id": ev.user_ids[mask].tolist(),
        "score": ev.score[mask].tolist(),
        "need": r4(ev.need),
        "timing": r4(ev.timing),
        "pattern": r4(ev.pattern),
        "personality": r4(ev.personality),
        "penalty": r4(ev.penalty),
        "trig": [str(t) for t in ev.trigger[mask]],
        "initiate": ev.initiate[mask].tolist(),
        "reason": [r for r, m in zip(_reasons(ev, threshold=threshold), mask, strict=True) if m],
        "blocked": [None if b is None else str(b) for b in ev.blocked_by[mask]],
    }


async def record_outcome(
    session: AsyncSession,
    *,
    decision_id: int,
    thought: dict[str, Any] | None,
    message: str | None,
    channel: str | None,
    status: str,
    detail: str,
    sent_at: datetime | None,
) -> None:
    """Write the thought, the message and what delivery did onto the decision.

    ``queued`` never overwrites a final outcome: a bot in another process may have
    sent the queued message (and recorded it) before this write.
    """
    status_value: Any = status
    detail_value: Any = detail[:2000]
    if status == "queued":
        final = ProactiveDecision.delivery_status.in_(("delivered", "failed", "expired"))
        status_value = case((final, ProactiveDecision.delivery_status), else_=status)
        detail_value = case((final, ProactiveDecision.delivery_detail), else_=detail[:2000])
    await session.execute(
        update(ProactiveDecision)
        .where(ProactiveDecision.id == decision_id)
        .values(
            thought=thought,
            message=message,
            channel=channel,
            delivery_status=status_value,
            delivery_detail=detail_value,
            sent_at=sent_at,
        )
    )


async def mark_declined(session: AsyncSession, *, user_id: str, now: datetime) -> int:
    """Mark the user's latest sent proactive message as declined; returns its id."""
    latest = await session.scalar(
        select(ProactiveDecision)
        .where(ProactiveDecision.user_id == user_id, ProactiveDecision.sent_at.is_not(None))
        .order_by(ProactiveDecision.sent_at.desc())
        .limit(1)
    )
    if latest is None:
        raise NotFound("no proactive message to decline")
    latest.declined = True
    latest.declined_at = now
    await session.flush()
    return latest.id


async def list_decisions(
    session: AsyncSession, *, user_id: str, limit: int = 20, sent_only: bool = False
) -> Sequence[ProactiveDecision]:
    """The user's latest decisions, newest first."""
    query = select(ProactiveDecision).where(ProactiveDecision.user_id == user_id)
    if sent_only:
        query = query.where(ProactiveDecision.sent_at.is_not(None))
    query = query.order_by(ProactiveDecision.id.desc()).limit(limit)
    return (await session.scalars(query)).all()


def decision_view(row: ProactiveDecision) -> dict[str, Any]:
    """A JSON-ready view of one decision."""
    return {
        "id": row.id,
        "user_id": row.user_id,
        "evaluated_at": row.evaluated_at.isoformat(),
        "score": round(float(row.score), 4),
        "factors": row.factors,
        "should_initiate": row.should_initiate,
        "reason": row.reason,
        "blocked_by": row.blocked_by,
        "thought": row.thought,
        "message": row.message,
        "channel": row.channel,
        "delivery_status": row.delivery_status,
        "delivery_detail": row.delivery_detail,
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "replied_at": row.replied_at.isoformat() if row.replied_at else None,
        "declined": row.declined,
        "source": row.source,
    }
