"""One user's failure in the proactive pass is that user's alone: logged with the user
id, recorded as failed, and every other user's send still completes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from proactive_world import NOW, habitual_user
from sqlalchemy import select

from companion.proactive import ProactiveService
from companion.proactive.models import ProactiveDecision
from companion.store.models import User
from companion.store.repositories import users


class _VanishingUser:
    """A channel whose delivery to ``victim`` coincides with the user deleting their
    account (a real race: the pass then records a turn for a user who is gone)."""

    channel = "discord"

    def __init__(self, runtime: Any, victim: str) -> None:
        self.runtime, self.victim = runtime, victim
        self.sent: list[str] = []

    def handles(self, user_id: str) -> bool:
        return user_id.startswith("api:")

    async def deliver(self, user_id: str, text: str) -> Any:
        if user_id == self.victim:
            async with self.runtime.db.transaction() as session:
                await users.delete_user(session, user_id=user_id)
        else:
            await asyncio.sleep(0.05)  # still sending when the other user's send fails
        self.sent.append(user_id)
        return type("Outcome", (), {"delivered": True, "via": "dm", "detail": ""})()


async def test_one_failing_user_does_not_fail_or_orphan_the_others(
    runtime: Any, caplog: pytest.LogCaptureFixture
) -> None:
    service: ProactiveService = runtime.proactive
    for user_id in ("api:gone", "api:one", "api:two"):
        await habitual_user(runtime, user_id)
    channel = _VanishingUser(runtime, "api:gone")
    saved = dict(service.registry._channels)
    service.register_delivery(channel)
    try:
        with caplog.at_level(logging.ERROR):
            counts = await service.run_check(now=NOW)
    finally:
        service.registry._channels.clear()
        service.registry._channels.update(saved)

    assert counts["initiated"] == 3
    assert counts["failed"] == 1 and counts["delivered"] == 2
    assert sorted(channel.sent) == ["api:gone", "api:one", "api:two"]
    failures = [r for r in caplog.records if getattr(r, "user_id", None) == "api:gone"]
    assert failures and failures[0].levelno >= logging.ERROR
    async with runtime.db.session() as session:
        rows = {d.user_id: d for d in (await session.scalars(select(ProactiveDecision))).all()}
        left = set((await session.scalars(select(User.id))).all())
    assert "api:gone" not in left  # its decision went with the account
    for user_id in ("api:one", "api:two"):
        assert rows[user_id].delivery_status == "delivered" and rows[user_id].sent_at is not None
