"""End to end in one process: dpytest → bot → InProcessClient → the real runtime.

The chat model is the loopback OpenAI-compatible server; the database, personality,
memory, security and proactive services are the real ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import discord.ext.test as dpytest
import pytest
from tests.conftest import make_settings
from tests.fakes import FakeOpenAIServer, Reply
from tests.unit.discord.discord_fakes import FakeInteraction, FakeUser

from companion.channels import InProcessClient
from companion.channels.discord import CompanionBot
from companion.errors import InvalidInput, NotFound
from companion.runtime import Runtime
from companion.store.repositories import users


@pytest.fixture
async def live(
    runtime: Runtime, database_url: str, openai_server: FakeOpenAIServer
) -> AsyncIterator[tuple[CompanionBot, Runtime]]:
    """A runtime whose chat chain is the loopback server, and a bot over it.

    Depends on the session ``runtime`` so its tables are emptied afterwards.
    """
    settings = make_settings(
        database_url,
        CHAT_PROVIDERS="openai",
        FAST_PROVIDERS="openai",
        OPENAI_BASE_URL=openai_server.base_url,
        OPENAI_API_KEY="test-key",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="4",
    )
    own = await Runtime.start(settings, migrate=False)  # type: ignore[arg-type]
    bot = CompanionBot(
        InProcessClient(own),
        own.settings.channels,
        intents=discord.Intents.all(),
        sync_commands=False,
    )
    await bot._async_setup_hook()
    await bot.setup_hook()
    dpytest.configure(bot, members=1)
    bot._connection.loop = asyncio.get_running_loop()
    try:
        yield bot, own
    finally:
        await dpytest.empty_queue()
        await own.conversation.drain()
        await own.close()


async def test_a_dm_goes_through_the_real_pipeline(
    live: tuple[CompanionBot, Runtime], openai_server: FakeOpenAIServer
) -> None:
    bot, own = live
    member = dpytest.get_config().members[0]
    dm = await member.create_dm()
    openai_server.enqueue(Reply(text="Lovely to meet you, I'm glad you wrote!"))
    await dpytest.message("Hi! I'm Sam and I love climbing.", channel=dm, member=member)
    assert dpytest.verify().message().content("Lovely to meet you, I'm glad you wrote!")

    user_id = f"discord:{member.id}"
    async with own.db.session() as session:
        user = await users.get_user(session, user_id=user_id)
        assert user.channels["discord"]["chat_id"] == str(dm.id)
        assert user.channels["discord"]["kind"] == "dm"
    prompt = openai_server.chat_requests[-1]["messages"]
    assert any("Sam" in str(m.get("content")) for m in prompt)

    # Slash commands read the same user's state through the same client.
    alice = FakeInteraction(bot, FakeUser(member.id))
    status = bot.tree.get_command("companion").get_command("status")  # type: ignore[union-attr]
    await status.callback(status.binding, alice)  # type: ignore[union-attr]
    embed = alice.replies[-1]["embed"]
    assert " feels " in embed.title
    await bot.companion.proactive(user_id, enabled=False, timezone="Europe/Paris")
    settings = await bot.companion.proactive(user_id)
    assert (settings.enabled, settings.timezone) == (False, "Europe/Paris")


async def test_inprocess_client_uses_the_real_services(live: tuple[CompanionBot, Runtime]) -> None:
    bot, _ = live
    client = bot.companion
    user_id = "discord:31337"
    status = await client.setup(user_id, "intellectual_mentor")
    assert status.preset == "intellectual_mentor"
    with pytest.raises(InvalidInput):
        await client.setup(user_id, "pirate_captain")
    with pytest.raises(InvalidInput, match="not a memory id"):
        await client.forget(user_id, "12")
    with pytest.raises(InvalidInput):
        await client.proactive(user_id, quiet_hours="whenever")
    assert await client.memories(user_id) == []
    assert await client.forget(user_id, None) == 0
    assert await client.last_channel(user_id, "discord") is None
    exported = await client.export(user_id)
    assert user_id in str(exported)


async def test_companion_list_and_switch_are_the_callers_own(
    live: tuple[CompanionBot, Runtime],
) -> None:
    from companion.personality.companions import new_companion

    bot, own = live
    alice_id, bob_id = 4242, 4343
    user_id = f"discord:{alice_id}"
    await bot.companion.status(user_id)  # first contact: the default companion
    await new_companion(own.personality, user_id=user_id, name="Nova", preset="supportive_friend")  # type: ignore[arg-type]

    group = bot.tree.get_command("companion")
    listing = group.get_command("list")  # type: ignore[union-attr]
    alice = FakeInteraction(bot, FakeUser(alice_id))
    await listing.callback(listing.binding, alice)  # type: ignore[union-attr]
    reply = alice.replies[-1]
    assert reply["ephemeral"] is True
    assert (
        "Companion" in reply["embed"].description
        and "Nova** (active)" in reply["embed"].description
    )
    view = reply["view"]
    assert type(view).__name__ == "CompanionPicker"
    assert [o.label for o in view.pick.options] == ["Companion", "Nova"]
    # Bob cannot use Alice's menu.
    assert await view.interaction_check(FakeInteraction(bot, FakeUser(bob_id))) is False
    first = next(int(o.value) for o in view.pick.options if o.label == "Companion")
    click = FakeInteraction(bot, FakeUser(alice_id))
    await view.choose(click, first)
    assert click.replies[-1]["content"] == "You're now talking with Companion."
    assert (await bot.companion.status(user_id)).name == "Companion"

    # /companion switch by name; an unknown one is "not found", nothing changes.
    switch = group.get_command("switch")  # type: ignore[union-attr]
    await switch.callback(
        switch.binding, FakeInteraction(bot, FakeUser(alice_id)), companion="nova"
    )  # type: ignore[union-attr]
    assert (await bot.companion.status(user_id)).name == "Nova"
    with pytest.raises(NotFound):
        await switch.callback(
            switch.binding, FakeInteraction(bot, FakeUser(alice_id)), companion="Zed"
        )  # type: ignore[union-attr]
    # Bob's list is his own (his first companion only).
    assert [c.name for c in await bot.companion.companions(f"discord:{bob_id}")] == ["Companion"]
