"""``companion discord --gateway``'s client against a real ``companion serve`` on loopback.

The gateway is a subprocess on the test database with the loopback OpenAI-compatible
server as its model; the client uses an admin key from ``companion keys create``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fakes import FakeOpenAIServer, Reply
from tests.serve_process import create_key, gateway_env, serving

from companion.channels import ChannelInfo, RemoteClient
from companion.conversation.types import TurnRequest
from companion.errors import InvalidInput, NotFound
from companion.runtime import Runtime


@pytest.fixture
def gateway(
    runtime: Runtime, database_url: str, openai_server: FakeOpenAIServer, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """(base URL, admin key) of a ``companion serve`` subprocess."""
    env = gateway_env(database_url, openai_server.base_url)
    key = create_key(env, "discord-bot", admin=True)
    with serving(env, tmp_path / "serve.log") as server:
        yield server.base, key


async def test_remote_client_acts_for_discord_users(
    gateway: tuple[str, str], openai_server: FakeOpenAIServer
) -> None:
    base, key = gateway
    client = RemoteClient(base, key, timeout=60)
    alice, bob = "discord:111", "discord:222"
    try:
        openai_server.enqueue(Reply(text="Hello Alice, nice to meet you."))
        result = await client.turn(
            TurnRequest(alice, "Hi, I'm Alice.", channel="discord",
                        external_conversation_id="discord:9001", username="alice")
        )  # fmt: skip
        assert result.reply == "Hello Alice, nice to meet you."
        assert result.interaction_id > 0

        status = await client.setup(alice, "creative_collaborator")
        assert status.preset == "creative_collaborator"
        assert set(status.pad) == {"pleasure", "arousal", "dominance"}
        view = await client.personality(alice)
        assert view.preset == "creative_collaborator" and len(view.big_five) == 5

        (mine,) = await client.companions(alice)
        assert mine.active and mine.name == view.name
        assert (await client.switch_companion(alice, mine.id)).active
        with pytest.raises(NotFound):
            await client.switch_companion(alice, mine.id + 10_000)
        with pytest.raises(NotFound):  # Bob has never spoken: no companions to list
            await client.companions(bob)

        info = ChannelInfo("discord", "111", "9001", "guild", "42")
        await client.remember_channel(alice, info)
        assert await client.last_channel(alice, "discord") == info
        assert await client.last_channel(alice, "telegram") is None

        settings = await client.proactive(alice, enabled=False, quiet_hours="22-07")
        assert (settings.enabled, settings.quiet_hours) == (False, "22-07")
        with pytest.raises(InvalidInput):
            await client.proactive(alice, timezone="Mars/Olympus")

        await client.reset(alice, conversation="discord:9001")
        # The turn's memory is written in the gateway's background: wait for it (bounded).
        deadline = time.monotonic() + 60
        while not (remembered := await client.memories(alice, limit=25)):
            assert time.monotonic() < deadline, "the turn was never remembered"
            await asyncio.sleep(0.2)
        assert any("Alice" in m.content for m in remembered)
        assert await client.forget(alice, None) == len(remembered)
        assert await client.memories(alice, limit=25) == []
        exported = await client.export(alice)
        assert "Mars" not in str(exported) and "discord:222" not in str(exported)
        assert exported["kept"]["messages"] == 2  # the turn itself is kept until deleted

        removed = await client.delete_user(alice)
        assert removed["users"] == 1 and removed["messages"] == 2
        assert (await client.export(alice))["kept"] == {"short_term_turns": 0}

        # Bob has never spoken: nothing of Alice's shows up for him.
        with pytest.raises(NotFound):
            await client.forget(bob, "00000000-0000-0000-0000-000000000000")
    finally:
        await client.aclose()
