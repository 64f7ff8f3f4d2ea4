"""Outbound deliveries through PostgreSQL: queued by a process without a bot, sent by
the bot's consumer when it connects (or on NOTIFY), retried, or expired with a reason."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "proactive"))
from proactive_world import NOW, habitual_user

from companion.channels.outbox import OutboxConsumer
from companion.proactive import ProactiveService
from companion.proactive.models import ProactiveDecision
from companion.store.models import OutboundDelivery
from companion.store.repositories import outbox, users


@dataclass
class _Outcome:
    delivered: bool
    via: str | None = None
    detail: str = ""


class _Bot:
    """Records what it was asked to send; fails while ``down`` is set."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.down = False
        self.arrived = asyncio.Event()

    async def send(self, user_id: str, text: str) -> _Outcome:
        if self.down:
            return _Outcome(False, detail="discord error 503")
        self.sent.append((user_id, text))
        self.arrived.set()
        return _Outcome(True, via="dm")


async def _rows(runtime: Any) -> list[OutboundDelivery]:
    async with runtime.db.session() as session:
        return list(
            (await session.scalars(select(OutboundDelivery).order_by(OutboundDelivery.id))).all()
        )


async def _decision(runtime: Any, user_id: str) -> ProactiveDecision:
    async with runtime.db.session() as session:
        row = await session.scalar(
            select(ProactiveDecision).where(
                ProactiveDecision.user_id == user_id, ProactiveDecision.should_initiate
            )
        )
    assert row is not None
    return row


async def test_decided_without_a_bot_then_delivered_when_the_bot_connects(runtime: Any) -> None:
    service: ProactiveService = runtime.proactive
    await habitual_user(runtime, "discord:4242")
    counts = await service.run_check(now=NOW, user_ids=["discord:4242"], force=True)
    assert counts["delivered"] == 1  # accepted by the outbox
    queued = await _decision(runtime, "discord:4242")
    assert queued.delivery_status == "queued" and queued.channel == "discord"
    [row] = await _rows(runtime)
    assert row.status == "pending" and row.text == queued.message and row.decision_id == queued.id

    bot = _Bot()  # the bot process starts after the message was decided
    consumer = OutboxConsumer(runtime.db, channel="discord", send=bot.send)
    assert await consumer.drain() == 1
    assert bot.sent == [("discord:4242", queued.message)]
    [row] = await _rows(runtime)
    assert row.status == "delivered" and row.via == "dm" and row.attempts == 1
    final = await _decision(runtime, "discord:4242")
    assert final.delivery_status == "delivered" and "dm" in (final.delivery_detail or "")
    assert await consumer.drain() == 0  # never sent twice


async def test_notify_wakes_a_listening_bot(runtime: Any) -> None:
    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id="discord:7")
    bot = _Bot()
    consumer = OutboxConsumer(runtime.db, channel="discord", send=bot.send, poll_seconds=3600)
    await consumer.start()
    try:
        await asyncio.sleep(0.5)  # let it LISTEN (the hour-long poll cannot be what wakes it)
        async with runtime.db.transaction() as session:
            await outbox.enqueue(
                session, user_id="discord:7", channel="discord", text_="hi!", ttl=timedelta(hours=1)
            )
        await asyncio.wait_for(bot.arrived.wait(), 20)
    finally:
        await consumer.stop()
    assert bot.sent == [("discord:7", "hi!")]


async def test_failures_are_retried_and_other_channels_untouched(runtime: Any) -> None:
    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id="discord:8")
        await users.ensure_user(session, user_id="telegram:9")
        for user, channel in (("discord:8", "discord"), ("telegram:9", "telegram")):
            await outbox.enqueue(
                session, user_id=user, channel=channel, text_="hello", ttl=timedelta(hours=1)
            )
    bot = _Bot()
    bot.down = True
    consumer = OutboxConsumer(runtime.db, channel="discord", send=bot.send, retry_in=timedelta(0))
    await consumer.drain()
    rows = {r.channel: r for r in await _rows(runtime)}
    assert rows["discord"].status == "pending" and "503" in (rows["discord"].detail or "")
    assert rows["telegram"].status == "pending" and rows["telegram"].attempts == 0
    bot.down = False
    await consumer.drain()
    rows = {r.channel: r for r in await _rows(runtime)}
    assert rows["discord"].status == "delivered" and rows["discord"].attempts >= 2
    assert rows["telegram"].status == "pending"


async def test_unsent_messages_expire_with_the_reason(runtime: Any) -> None:
    service: ProactiveService = runtime.proactive
    await habitual_user(runtime, "telegram:77")
    await service.run_check(now=NOW, user_ids=["telegram:77"], force=True)
    past = datetime.now(UTC) - timedelta(seconds=1)
    async with runtime.db.transaction() as session:
        await session.execute(update(OutboundDelivery).values(expires_at=past))
    await service.run_check(now=NOW + timedelta(minutes=5), user_ids=["telegram:77"])
    [row] = await _rows(runtime)
    assert row.status == "expired" and "no telegram bot" in (row.detail or "")
    decision = await _decision(runtime, "telegram:77")
    assert decision.delivery_status == "expired" and "time to live" in (
        decision.delivery_detail or ""
    )
    bot = _Bot()
    assert await OutboxConsumer(runtime.db, channel="telegram", send=bot.send).drain() == 0
    assert bot.sent == []


async def test_a_bot_without_database_access_consumes_through_the_gateway(runtime: Any) -> None:
    from httpx import ASGITransport

    from companion.api.app import create_app
    from companion.channels import RemoteClient
    from companion.channels.outbox import RemoteOutboxConsumer
    from companion.errors import NotFound
    from companion.store.repositories import api_keys

    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id="discord-bot")
        await users.ensure_user(session, user_id="discord:31")
        _, admin = await api_keys.create_api_key(session, user_id="discord-bot", is_admin=True)
        await outbox.enqueue(
            session, user_id="discord:31", channel="discord", text_="queued", ttl=timedelta(hours=1)
        )
    app = create_app(runtime=runtime)
    client = RemoteClient("http://gateway", admin, transport=ASGITransport(app=app))
    bot = _Bot()
    consumer = RemoteOutboxConsumer(client, channel="discord", send=bot.send)
    try:
        assert await consumer.poll_once(wait_seconds=0) == 1
        assert bot.sent == [("discord:31", "queued")]
        [row] = await _rows(runtime)
        assert row.status == "delivered" and row.via == "dm"
        assert await consumer.poll_once(wait_seconds=0) == 0

        async def later() -> None:  # arrives while the bot's long poll waits
            await asyncio.sleep(1.0)
            async with runtime.db.transaction() as session:
                await outbox.enqueue(
                    session, user_id="discord:31", channel="discord", text_="late",
                    ttl=timedelta(hours=1),
                )  # fmt: skip

        producer = asyncio.create_task(later())
        assert await consumer.poll_once(wait_seconds=10) == 1
        await producer
        assert bot.sent[-1] == ("discord:31", "late")
        try:
            await client.report_delivery(row.id, delivered=True, via="dm", detail="again")
        except NotFound as exc:
            assert "not claimed" in str(exc)
        else:
            raise AssertionError("a finished delivery was reported twice")
    finally:
        await client.aclose()
