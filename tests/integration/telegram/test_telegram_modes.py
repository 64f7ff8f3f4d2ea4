"""Admin and public modes: HER's public limits, and a private bot."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from tests.fakes.telegram_server import FakeTelegramServer
from tests.integration.telegram.telegram_world import (
    ADMIN,
    ALICE,
    BOB,
    Live,
    ScriptedLLM,
    running,
)

from companion.channels.telegram import PublicLimiter, texts
from companion.runtime import Runtime


async def _burst(live: Live, user: int, count: int) -> list[str]:
    before = len(live.telegram.sent("sendMessage", chat_id=user))
    for _ in range(count):
        live.telegram.private_message(user, "/help")
    calls = await live.telegram.wait_for("sendMessage", chat_id=user, count=before + count)
    return [c.text for c in calls[before:]]


async def test_public_users_are_limited_and_admins_never(live: Live) -> None:
    live.service.bot.limiter = PublicLimiter(live.runtime.kv)  # HER's public limits
    # Eleven at once exceed a limit even if they straddle one window's edge: any
    # split of 11 leaves 6 in one 10-second window (burst 5) or 11 in one minute (10).
    replies = await _burst(live, ALICE, 11)
    slowed = [r for r in replies if "write again in" in r]
    assert slowed, replies
    assert re.search(r"write again in \d+ (seconds?|minutes?) \(at \d\d:\d\d:\d\d UTC\)", slowed[0])
    assert all(r.startswith("Just write to me") for r in replies if r not in slowed)

    admin_replies = await _burst(live, ADMIN, 11)
    assert not [r for r in admin_replies if "write again in" in r]


@pytest.fixture
async def private_bot(
    runtime: Runtime, database_url: str, llm: ScriptedLLM, telegram_server: FakeTelegramServer
) -> AsyncIterator[Live]:
    """The bot with TELEGRAM_PUBLIC=false."""
    async with running(database_url, llm, telegram_server, TELEGRAM_PUBLIC="false") as started:
        yield started


async def test_a_private_bot_answers_admins_only(private_bot: Live) -> None:
    live = private_bot
    assert await live.say(BOB, "Hello, who are you?") == texts.PRIVATE_SERVICE
    assert await live.say(BOB, "/start") == texts.PRIVATE_SERVICE
    assert not await live.exists(f"telegram:{BOB}")
    assert await live.say(ADMIN, "Hello, it's me") == "echo: Hello, it's me"
    assert not [b for b in live.llm.chat_requests if "who are you" in str(b["messages"][-1])]
