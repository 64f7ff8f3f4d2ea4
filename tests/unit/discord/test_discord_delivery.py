"""Proactive delivery: DM first, then the last server channel with a mention."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext.test import backend as back
from discord_fakes import FakeClient

from companion.channels import ChannelInfo
from companion.channels.discord import CompanionBot, DiscordDelivery


class _Forbidden403:
    status = 403
    reason = "Forbidden"


@pytest.fixture
def dms_closed() -> Iterator[None]:
    """Discord answers 403 (50007) to a DM when the user has closed them."""
    http = back.get_state().http
    original = http.send_message

    async def send_message(channel_id: int, **kwargs: Any) -> Any:
        channel = back.get_state().get_channel(channel_id)
        if channel is None or isinstance(channel, discord.DMChannel):
            raise discord.Forbidden(_Forbidden403(), "Cannot send messages to this user")  # type: ignore[arg-type]
        return await original(channel_id, **kwargs)

    http.send_message = send_message  # type: ignore[method-assign]
    yield
    http.send_message = original  # type: ignore[method-assign]


async def test_dm_first(bot: CompanionBot, fake: FakeClient) -> None:
    member = dpytest.get_config().members[0]
    outcome = await DiscordDelivery(bot, fake).deliver(f"discord:{member.id}", "Thinking of you!")
    assert (outcome.delivered, outcome.via) == (True, "dm")
    message = dpytest.get_message()
    assert isinstance(message.channel, discord.DMChannel)
    assert message.content == "Thinking of you!"


async def test_closed_dms_fall_back_to_the_last_channel(
    bot: CompanionBot, fake: FakeClient, dms_closed: None
) -> None:
    member = dpytest.get_config().members[0]
    channel = dpytest.get_config().channels[0]
    user_id = f"discord:{member.id}"
    await fake.remember_channel(
        user_id,
        ChannelInfo("discord", str(member.id), str(channel.id), "guild", str(channel.guild.id)),
    )
    outcome = await DiscordDelivery(bot, fake).deliver(user_id, "How did the exam go?")
    assert (outcome.delivered, outcome.via) == (True, "channel")
    assert dpytest.verify().message().content(f"<@{member.id}> How did the exam go?")


async def test_closed_dms_and_no_channel_is_reported(
    bot: CompanionBot, fake: FakeClient, dms_closed: None
) -> None:
    member = dpytest.get_config().members[0]
    outcome = await DiscordDelivery(bot, fake).deliver(f"discord:{member.id}", "hello?")
    assert outcome.delivered is False
    assert "no server channel" in outcome.detail


async def test_other_channels_users_are_not_ours(bot: CompanionBot, fake: FakeClient) -> None:
    delivery = DiscordDelivery(bot, fake)
    assert delivery.handles("telegram:42") is False
    assert (await delivery.deliver("telegram:42", "hi")).delivered is False
