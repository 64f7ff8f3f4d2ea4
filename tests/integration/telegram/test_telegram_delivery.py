"""Proactive messages reach the user's Telegram chat; a block stops the retries."""

from __future__ import annotations

from sqlalchemy import select
from tests.integration.proactive.proactive_world import NOW, habitual_user
from tests.integration.telegram.telegram_world import Live

from companion.proactive.models import ProactiveDecision
from companion.store.repositories import users

LONELY = 3001
BLOCKER = 3002


async def _channel(live: Live, user_id: str) -> dict[str, object]:
    async with live.runtime.db.session() as session:
        user = await users.get_user(session, user_id=user_id)
    return dict((user.channels or {})["telegram"])


async def test_a_proactive_message_reaches_the_telegram_chat(live: Live) -> None:
    user_id = f"telegram:{LONELY}"
    await habitual_user(live.runtime, user_id)
    counts = await live.runtime.proactive.run_check(now=NOW, user_ids=[user_id])
    assert counts["delivered"] == 1

    (sent,) = live.telegram.sent("sendMessage", chat_id=LONELY)
    assert sent.text and sent.params["parse_mode"] == "HTML"
    async with live.runtime.db.session() as session:
        decision = await session.scalar(
            select(ProactiveDecision).where(ProactiveDecision.user_id == user_id)
        )
    assert decision is not None
    assert decision.channel == "telegram" and decision.delivery_status == "delivered"


async def test_blocked_by_user_marks_the_chat_undeliverable(live: Live) -> None:
    user_id = f"telegram:{BLOCKER}"
    await live.say(BLOCKER, "hi there")
    delivery = live.service.delivery
    assert (await delivery.deliver(user_id, "Thinking of you!")).delivered

    live.telegram.fail(
        "sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=BLOCKER
    )
    outcome = await delivery.deliver(user_id, "Are you still there?")
    assert not outcome.delivered and "blocked by user" in outcome.detail
    assert (await _channel(live, user_id))["undeliverable"] is True

    # Later attempts stop at once: nothing more is sent to Telegram.
    tried = len(live.telegram.sent("sendMessage", chat_id=BLOCKER))
    again = await delivery.deliver(user_id, "Hello?")
    assert not again.delivered and again.detail == "blocked by user"
    assert len(live.telegram.sent("sendMessage", chat_id=BLOCKER)) == tried

    # Writing again (after unblocking) makes the chat deliverable again.
    assert (await live.say(BLOCKER, "sorry, I'm back")).startswith("echo: sorry")
    assert (await _channel(live, user_id))["undeliverable"] is False
    assert (await delivery.deliver(user_id, "Welcome back!")).delivered
