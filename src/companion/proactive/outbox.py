"""Proactive delivery through the outbound deliveries table, for bots in other processes.

``companion worker`` decides proactive messages but runs no bot. For each chat
channel (``discord``, ``telegram``) without a bot in this process, an
``OutboxDeliverer`` queues the message in PostgreSQL; the channel's bot process
(any machine, any number) claims and sends it, or it expires with a recorded reason.
The decision is stored as ``queued`` and updated to what finally happened.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from companion.proactive.delivery import DeliveryOutcome, ProactiveMessage
from companion.proactive.models import ProactiveDecision
from companion.store.database import Database
from companion.store.repositories import outbox

__all__ = ["OutboxDeliverer", "record_final"]


class OutboxDeliverer:
    """Queues messages for ``<channel>:<id>`` users; the channel's bot sends them."""

    def __init__(self, db: Database, channel: str, *, ttl: timedelta) -> None:
        self.db, self.channel, self.ttl = db, channel, ttl

    def handles(self, user_id: str) -> bool:
        """Users of this channel (``discord:123``, ``telegram:42``)."""
        return user_id.startswith(f"{self.channel}:")

    async def send(self, message: ProactiveMessage) -> DeliveryOutcome:
        """Queue ``message``; ``queued`` (not yet delivered) in the outcome."""
        async with self.db.transaction() as session:
            row = await outbox.enqueue(
                session,
                user_id=message.user_id,
                channel=self.channel,
                text_=message.text,
                ttl=self.ttl,
                payload={"trigger": message.trigger, "score": round(message.score, 4)},
                decision_id=message.decision_id or None,
            )
        return DeliveryOutcome(True, self.channel, via=f"outbox #{row.id}", queued=True)

    send_proactive = send  # the registry passes the whole message to this name

    async def deliver(self, user_id: str, text: str) -> DeliveryOutcome:
        """Protocol form without the decision details."""
        return await self.send(ProactiveMessage(user_id, text, 0, "general", 0.0))


async def record_final(db: Database, finished: list[outbox.Finished]) -> None:
    """Write each delivery's final state onto its proactive decision."""
    rows = [f for f in finished if f.decision_id is not None]
    if not rows:
        return
    async with db.transaction() as session:
        for f in rows:
            await session.execute(
                update(ProactiveDecision)
                .where(
                    ProactiveDecision.id == f.decision_id, ProactiveDecision.user_id == f.user_id
                )
                .values(
                    delivery_status=f.status,
                    delivery_detail=f"{f.channel}: {f.detail}"[:2000],
                )
            )
