"""The outbound deliveries table: enqueue, claim, finish, expire.

Enqueueing notifies ``LISTEN companion_outbox`` listeners (payload: the channel) when
the transaction commits, so a bot in another process wakes at once; listeners also
poll, so a missed notification only delays a message. Claims use
``FOR UPDATE SKIP LOCKED`` and a lease: a bot that dies while sending leaves the row
to be claimed again once the lease runs out, so nothing is lost across restarts.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from companion.store.models import OutboundDelivery

__all__ = [
    "NOTIFY_CHANNEL",
    "Finished",
    "claim",
    "enqueue",
    "expire_due",
    "finish",
    "list_deliveries",
    "view",
]

#: The PostgreSQL notification channel; the payload is the delivery's channel name.
NOTIFY_CHANNEL = "companion_outbox"
_OPEN = ("pending", "sending")


@dataclass(frozen=True)
class Finished:
    """A delivery that reached a final state (for whoever tracks its origin)."""

    id: int
    user_id: str
    channel: str
    decision_id: int | None
    status: str
    detail: str


async def enqueue(
    session: AsyncSession,
    *,
    user_id: str,
    channel: str,
    text_: str,
    ttl: timedelta,
    kind: str = "proactive",
    payload: dict[str, Any] | None = None,
    decision_id: int | None = None,
) -> OutboundDelivery:
    """Queue ``text_`` for ``user_id`` on ``channel``; listeners wake on commit."""
    now = datetime.now(UTC)
    row = OutboundDelivery(
        user_id=user_id,
        channel=channel,
        kind=kind,
        text=text_,
        payload=payload or {},
        decision_id=decision_id,
        available_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    await session.flush()
    await session.execute(text("SELECT pg_notify(:n, :c)"), {"n": NOTIFY_CHANNEL, "c": channel})
    return row


async def expire_due(
    session: AsyncSession, *, now: datetime | None = None, channel: str | None = None
) -> list[Finished]:
    """Mark open deliveries past their ``expires_at`` as expired, with the reason."""
    now = now or datetime.now(UTC)
    query = (
        update(OutboundDelivery)
        .where(OutboundDelivery.status.in_(_OPEN), OutboundDelivery.expires_at <= now)
        .values(
            status="expired",
            finished_at=now,
            detail=text(
                "concat_ws('; ', detail, 'expired: no ' || channel || ' bot delivered it within "
                "its time to live (' || attempts || ' attempt(s))')"
            ),
        )
        .returning(
            OutboundDelivery.id,
            OutboundDelivery.user_id,
            OutboundDelivery.channel,
            OutboundDelivery.decision_id,
            OutboundDelivery.detail,
        )
    )
    if channel is not None:
        query = query.where(OutboundDelivery.channel == channel)
    rows = (await session.execute(query)).all()
    return [Finished(r[0], r[1], r[2], r[3], "expired", r[4] or "") for r in rows]


async def claim(
    session: AsyncSession,
    *,
    channel: str,
    worker: str,
    lease: timedelta,
    limit: int = 10,
    exclude: Collection[int] = (),
) -> Sequence[OutboundDelivery]:
    """Take up to ``limit`` due deliveries of ``channel`` for ``lease`` (oldest first).

    ``exclude``: ids already tried in this pass (a failure waits for the next pass).
    """
    now = datetime.now(UTC)
    rows = (
        await session.scalars(
            select(OutboundDelivery)
            .where(
                OutboundDelivery.channel == channel,
                OutboundDelivery.status.in_(_OPEN),
                OutboundDelivery.available_at <= now,
                OutboundDelivery.expires_at > now,
                OutboundDelivery.id.not_in(list(exclude)),
            )
            .order_by(OutboundDelivery.available_at, OutboundDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for row in rows:
        row.status, row.claimed_by = "sending", worker[:100]
        row.attempts += 1
        row.available_at = now + lease
    await session.flush()
    return rows


async def finish(
    session: AsyncSession,
    *,
    delivery_id: int,
    delivered: bool,
    via: str | None,
    detail: str,
    retry_in: timedelta,
    max_attempts: int = 5,
) -> Finished | None:
    """Record an attempt; a failure is retried after ``retry_in`` until ``max_attempts``.

    Returns the final state, or ``None`` while the delivery is still open.
    """
    row = await session.get(OutboundDelivery, delivery_id, with_for_update=True)
    if row is None or row.status not in _OPEN:
        return None
    now = datetime.now(UTC)
    row.via, row.detail = (via or "")[:100] or None, detail[:2000] or None
    if delivered:
        row.status, row.finished_at = "delivered", now
    elif row.attempts >= max_attempts:
        row.status, row.finished_at = "failed", now
    else:
        row.status, row.available_at = "pending", now + retry_in
        return None
    await session.flush()
    return Finished(row.id, row.user_id, row.channel, row.decision_id, row.status, detail)


async def list_deliveries(
    session: AsyncSession,
    *,
    user_id: str | None = None,
    channel: str | None = None,
    status: str | None = None,
    limit: int = 50,
) -> Sequence[OutboundDelivery]:
    """Newest first, filtered."""
    query = select(OutboundDelivery).order_by(OutboundDelivery.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(OutboundDelivery.user_id == user_id)
    if channel is not None:
        query = query.where(OutboundDelivery.channel == channel)
    if status is not None:
        query = query.where(OutboundDelivery.status == status)
    return (await session.scalars(query)).all()


def view(row: OutboundDelivery) -> dict[str, Any]:
    """One delivery as JSON-ready fields (the admin API and ``companion deliveries``)."""
    return {
        "id": row.id,
        "user_id": row.user_id,
        "channel": row.channel,
        "kind": row.kind,
        "text": row.text,
        "status": row.status,
        "attempts": row.attempts,
        "via": row.via,
        "detail": row.detail,
        "decision_id": row.decision_id,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
    }
