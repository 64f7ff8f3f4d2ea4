"""Webhook mode: Telegram pushes updates to the gateway, proven by the secret token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.fakes.telegram_server import FakeTelegramServer
from tests.integration.telegram.telegram_world import ALICE, Live, ScriptedLLM, running

from companion.runtime import Runtime

SECRET = "s3cret-token_for-tests"
URL = "https://companion.example/telegram/webhook"


@pytest.fixture
async def hooked(
    runtime: Runtime, database_url: str, llm: ScriptedLLM, telegram_server: FakeTelegramServer
) -> AsyncIterator[Live]:
    """The bot in webhook mode."""
    env = {"TELEGRAM_WEBHOOK_URL": URL, "TELEGRAM_WEBHOOK_SECRET": SECRET}
    async with running(database_url, llm, telegram_server, **env) as started:
        yield started


async def test_updates_arrive_through_the_gateway(hooked: Live) -> None:
    live = hooked
    (registered,) = live.telegram.sent("setWebhook")
    assert registered.params["url"] == URL and registered.params["secret_token"] == SECRET
    assert not live.telegram.sent("getUpdates")

    update = live.telegram.private_update(ALICE, "Hello through the hook")
    http, _ = await live.api()
    async with http:
        missing = await http.post("/telegram/webhook", json=update)
        wrong = await http.post(
            "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
        )
        good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        garbage = await http.post("/telegram/webhook", content=b"{not json", headers=good)
        no_id = await http.post("/telegram/webhook", json={"message": {}}, headers=good)
        broken = await http.post(
            "/telegram/webhook", json={"update_id": 7, "message": {"text": 1}}, headers=good
        )
        accepted = await http.post("/telegram/webhook", json=update, headers=good)
    assert missing.status_code == 403 and wrong.status_code == 403
    assert "secret token" in wrong.json()["detail"]
    assert garbage.status_code == 422 and no_id.status_code == 422
    assert broken.status_code == 422 and "not a valid Telegram update" in broken.json()["detail"]
    assert "Telegram update" in garbage.json()["detail"]
    assert accepted.status_code == 200

    (reply,) = await live.telegram.wait_for("sendMessage", chat_id=ALICE)
    assert reply.text == "echo: Hello through the hook"


async def test_the_hook_is_closed_without_a_webhook_bot(live: Live) -> None:
    http, _ = await live.api()
    async with http:
        response = await http.post(
            "/telegram/webhook",
            json={"update_id": 1},
            headers={"X-Telegram-Bot-Api-Secret-Token": "anything"},
        )
    assert response.status_code == 404
