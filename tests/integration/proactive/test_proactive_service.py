"""A real pass over the database: decide, think, deliver over SSE, record the turn."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from proactive_world import NOW, habitual_user
from sqlalchemy import select

from companion.proactive import ProactiveService
from companion.proactive.models import ProactiveDecision
from companion.store.models import Interaction
from companion.store.repositories import interactions


async def _subscribed(service: ProactiveService, user_id: str) -> asyncio.Task[None]:
    box: list[dict[str, Any]] = []
    subscription = await service.subscribe(user_id)

    async def listen() -> None:
        box.append(await subscription.get())
        await subscription.close()

    task = asyncio.create_task(listen())
    task.box = box  # type: ignore[attr-defined]
    return task


async def test_pass_reaches_out_over_sse_and_records_everything(runtime: Any) -> None:
    service: ProactiveService = runtime.proactive
    await habitual_user(runtime, "api:lonely")
    await habitual_user(runtime, "api:optout", enabled=False)
    await habitual_user(runtime, "api:banned", status="suspended")
    listener = await _subscribed(service, "api:lonely")

    counts = await service.run_check(now=NOW)
    await asyncio.wait_for(listener, 5)

    assert counts["evaluated"] == 3 and counts["delivered"] == 1
    assert counts["blocked_opted_out"] == 1 and counts["blocked_suspended"] == 1
    assert listener.box[0]["text"]  # type: ignore[attr-defined]
    async with runtime.db.session() as session:
        rows = {d.user_id: d for d in (await session.scalars(select(ProactiveDecision))).all()}
        turn = await session.scalar(select(Interaction).where(Interaction.is_proactive))
    sent = rows["api:lonely"]
    assert sent.should_initiate and sent.delivery_status == "delivered" and sent.channel == "sse"
    assert sent.thought["response_strategy"] and sent.thought["proactive_impulse"] > 0.6
    assert set(sent.factors) >= {"need", "timing", "pattern", "personality", "penalty"}
    assert rows["api:optout"].blocked_by == "opted_out"
    assert rows["api:banned"].blocked_by == "suspended"
    assert turn is not None and turn.agent_response == sent.message and not turn.user_initiated


async def test_limits_hold_after_sending_and_replies_are_matched(runtime: Any) -> None:
    service: ProactiveService = runtime.proactive
    await habitual_user(runtime, "api:lonely")
    listener = await _subscribed(service, "api:lonely")
    await service.run_check(now=NOW)
    await asyncio.wait_for(listener, 5)

    again = await service.run_check(now=NOW + timedelta(hours=1))
    assert again["blocked_min_gap"] == 1
    async with runtime.db.transaction() as session:
        await interactions.record_interaction(
            session,
            user_id="api:lonely",
            timestamp=NOW + timedelta(hours=2),
            user_message="thanks!",
            agent_response=":)",
        )
    later = await service.run_check(now=NOW + timedelta(hours=5))
    assert "blocked_awaiting_reply" not in later
    async with runtime.db.session() as session:
        first = await session.scalar(
            select(ProactiveDecision).where(ProactiveDecision.sent_at.is_not(None))
        )
    assert first is not None and first.replied_at == NOW + timedelta(hours=2)


async def test_undelivered_message_does_not_count_as_sent(runtime: Any) -> None:
    service: ProactiveService = runtime.proactive
    await habitual_user(runtime, "api:nobody-listening")
    counts = await service.run_check(now=NOW)
    assert counts["undelivered"] == 1
    async with runtime.db.session() as session:
        row = await session.scalar(select(ProactiveDecision))
    assert row is not None and row.sent_at is None and row.delivery_status == "undelivered"
    assert "sse: no stream connected" in (row.delivery_detail or "")
