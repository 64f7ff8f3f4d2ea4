"""The real Telegram bot (python-telegram-bot ``Application``) on the real runtime.

Telegram is the loopback Bot API server (``tests/fakes/telegram_server.py``) reached
through TELEGRAM_API_URL; the chat model is the loopback OpenAI-compatible server,
scripted by the user's exact message so background model calls (memory, mood) never
take a scripted reply meant for a turn.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from tests.conftest import make_settings
from tests.fakes import FakeOpenAIServer
from tests.fakes._http import Response
from tests.fakes.telegram_server import FakeTelegramServer

from companion.channels.telegram import (
    PublicLimiter,
    TelegramService,
    start_telegram,
    stop_telegram,
)
from companion.conversation.limits import Limit
from companion.runtime import Runtime
from companion.store.repositories import api_keys, users

ADMIN = 1000
ALICE = 2001
BOB = 2002


class ScriptedLLM(FakeOpenAIServer):
    """Answers a chat turn by the user's exact message: a scripted text, or later.

    ``hold(text)`` makes the answer to ``text`` wait until ``let_go(text)`` (a failed
    call would fall back to the slow embedded model, so tests hold instead of hang).
    """

    def __init__(self) -> None:
        super().__init__()
        self.scripted: dict[str, str] = {}
        self._held: dict[str, threading.Event] = {}

    def hold(self, text: str) -> None:
        """Delay the answer to ``text`` until ``let_go``."""
        self._held[text] = threading.Event()

    def let_go(self, text: str) -> None:
        """Answer the held ``text`` now."""
        self._held[text].set()

    @staticmethod
    def _last_user(body: dict[str, Any]) -> str:
        users_ = [m for m in body.get("messages", []) if m.get("role") == "user"]
        return str(users_[-1].get("content", "")).strip() if users_ else ""

    def _chat(self, body: dict[str, Any], reply: Any) -> Response:
        held = self._held.get(self._last_user(body))
        if held is not None:
            held.wait(timeout=120)
        return super()._chat(body, reply)

    def _default(self, body: dict[str, Any]) -> str:
        return self.scripted.get(self._last_user(body)) or super()._default(body)


@dataclass
class Live:
    """A running bot, its runtime and both fakes."""

    telegram: FakeTelegramServer
    llm: ScriptedLLM
    runtime: Runtime
    service: TelegramService

    async def say(self, user: int, text: str, **wait: Any) -> str:
        """A private message from ``user``; returns the text of the next reply to it."""
        before = len(self.telegram.sent("sendMessage", chat_id=user))
        self.telegram.private_message(user, text)
        calls = await self.telegram.wait_for("sendMessage", chat_id=user, count=before + 1, **wait)
        return calls[before].text

    async def exists(self, user_id: str) -> bool:
        """Whether the database has a row for ``user_id``."""
        async with self.runtime.db.session() as session:
            try:
                await users.get_user(session, user_id=user_id)
            except Exception:
                return False
        return True

    async def api(self) -> tuple[AsyncClient, dict[str, str]]:
        """An HTTP client on this runtime's app, and an admin key's headers."""
        from companion.api.app import create_app

        async with self.runtime.db.transaction() as session:
            await users.ensure_user(session, user_id="api:admin")
            _, secret = await api_keys.create_api_key(session, user_id="api:admin", is_admin=True)
        app = create_app(runtime=self.runtime)
        http = AsyncClient(transport=ASGITransport(app=app), base_url="http://test")
        return http, {"Authorization": f"Bearer {secret}"}


def live_settings(
    database_url: str, llm: FakeOpenAIServer, tg: FakeTelegramServer, **env: str
) -> Any:
    """Settings with both fakes and ADMIN as the only Telegram admin."""
    return make_settings(
        database_url,
        CHAT_PROVIDERS="openai",
        FAST_PROVIDERS="openai",
        OPENAI_BASE_URL=llm.base_url,
        OPENAI_API_KEY="test-key",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="4",
        TELEGRAM_BOT_TOKEN=tg.token,
        TELEGRAM_API_URL=tg.url,
        TELEGRAM_ADMIN_IDS=str(ADMIN),
        **env,
    )


@pytest.fixture
def llm() -> Any:
    """The scripted loopback model."""
    with ScriptedLLM() as server:
        yield server


@asynccontextmanager
async def running(
    database_url: str, llm: ScriptedLLM, tg: FakeTelegramServer, **env: str
) -> AsyncIterator[Live]:
    """A runtime on the fakes with the bot started as ``companion serve`` starts it."""
    settings = live_settings(database_url, llm, tg, **env)
    own = await Runtime.start(settings, migrate=False)
    service = await start_telegram(own)
    assert service is not None
    # Tests send many commands quickly; the seed limits get their own test.
    service.bot.limiter = PublicLimiter(own.kv, limits=(Limit(10_000, 60, "minute"),))
    try:
        yield Live(tg, llm, own, service)
    finally:
        await stop_telegram(service)
        for event in llm._held.values():
            event.set()
        await own.conversation.drain()
        await own.close()


@pytest.fixture
async def live(
    runtime: Runtime, database_url: str, llm: ScriptedLLM, telegram_server: FakeTelegramServer
) -> AsyncIterator[Live]:
    """The bot in public mode with ADMIN as its admin.

    Depends on the session ``runtime`` so the tables are emptied afterwards.
    """
    async with running(database_url, llm, telegram_server) as started:
        yield started
