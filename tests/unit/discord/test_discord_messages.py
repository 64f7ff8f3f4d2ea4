"""The message flow on dpytest: who is answered, the gate, chunking, errors."""

from __future__ import annotations

import asyncio

import discord.ext.test as dpytest
from discord.ext.test import backend as back
from discord.ext.test import callbacks
from discord_fakes import FakeClient

from companion.channels.discord import BUSY, ERROR, CompanionBot
from companion.errors import Busy


async def test_a_dm_is_answered_as_the_accounts_own_user(
    bot: CompanionBot, fake: FakeClient
) -> None:
    member = dpytest.get_config().members[0]
    dm = await member.create_dm()
    await dpytest.message("hello there", channel=dm, member=member)
    assert dpytest.verify().message().content("you said: hello there")
    request = fake.requests[0]
    assert request.user_id == f"discord:{member.id}"
    assert request.channel == "discord"
    assert request.external_conversation_id == f"discord:{dm.id}"
    assert fake.channels[request.user_id]["discord"].kind == "dm"


async def test_in_a_server_only_mentions_are_answered(bot: CompanionBot, fake: FakeClient) -> None:
    channel = dpytest.get_config().channels[0]
    await dpytest.message("just chatting with friends", channel=channel)
    assert dpytest.verify().message().nothing()
    assert fake.requests == []
    assert bot.user is not None
    await dpytest.message(f"<@{bot.user.id}> how are you?", channel=channel)
    assert dpytest.verify().message().content("you said: how are you?")
    info = fake.channels[fake.requests[0].user_id]["discord"]
    assert (info.kind, info.chat_id) == ("guild", str(channel.id))


async def test_a_configured_channel_needs_no_mention(bot: CompanionBot, fake: FakeClient) -> None:
    channel = dpytest.get_config().channels[0]
    bot.channel_settings.discord_channel_ids.append(channel.id)
    await dpytest.message("anyone here?", channel=channel)
    assert dpytest.verify().message().content("you said: anyone here?")


async def test_a_second_message_while_thinking_gets_the_notice(
    bot: CompanionBot, fake: FakeClient
) -> None:
    member = dpytest.get_config().members[0]
    dm = await member.create_dm()
    fake.hold = asyncio.Event()
    # make_message dispatches without waiting, so the first turn stays open.
    back.make_message("first", member, dm)
    await fake.started.wait()
    back.make_message("second", member, dm)
    while dpytest.sent_queue.empty():  # noqa: ASYNC110 - the queue has no awaitable signal
        await asyncio.sleep(0)
    assert dpytest.verify().message().content(BUSY)
    fake.hold.set()
    await dpytest.run_all_events()
    assert dpytest.verify().message().content("you said: first")
    assert [r.text for r in fake.requests] == ["first"]
    # Another user is not blocked by the first one's turn.
    other = dpytest.get_config().members[1]
    await dpytest.message("me too", channel=await other.create_dm(), member=other)
    assert dpytest.verify().message().content("you said: me too")


async def test_long_replies_are_split(bot: CompanionBot, fake: FakeClient) -> None:
    fake.reply = "A sentence of reasonable length. " * 150
    member = dpytest.get_config().members[0]
    await dpytest.message("tell me a story", channel=await member.create_dm(), member=member)
    sent = [dpytest.get_message() for _ in range(3)]
    assert all(len(m.content) <= 2000 for m in sent)
    assert "".join(m.content for m in sent).count("reasonable") == 150
    assert dpytest.verify().message().nothing()


async def test_errors_become_an_in_character_reply(bot: CompanionBot, fake: FakeClient) -> None:
    member = dpytest.get_config().members[0]
    dm = await member.create_dm()
    fake.fail = RuntimeError("model exploded")
    await dpytest.message("hi", channel=dm, member=member)
    assert dpytest.verify().message().content(ERROR)
    fake.fail = Busy("turn running in another process")
    await dpytest.message("hi again", channel=dm, member=member)
    assert dpytest.verify().message().content(BUSY)
    # The gate was released each time: the next message is answered.
    fake.fail = None
    await dpytest.message("ok now?", channel=dm, member=member)
    assert dpytest.verify().message().content("you said: ok now?")


async def test_bots_are_ignored(bot: CompanionBot, fake: FakeClient) -> None:
    assert bot.user is not None
    dm = await dpytest.get_config().members[0].create_dm()
    await dpytest.message("echo", channel=dm, member=bot.user)  # type: ignore[arg-type]
    assert fake.requests == []


async def test_typing_is_shown_while_generating(bot: CompanionBot, fake: FakeClient) -> None:
    typed: list[int] = []

    async def on_typing(channel: object) -> None:
        typed.append(len(fake.requests))  # how many turns had started when typing began

    callbacks.set_callback(on_typing, "send_typing")
    try:
        member = dpytest.get_config().members[0]
        await dpytest.message("hi", channel=await member.create_dm(), member=member)
    finally:
        callbacks.remove_callback("send_typing")
    assert typed and typed[0] == 0  # typing starts before the turn is asked for
    assert dpytest.verify().message().content("you said: hi")
