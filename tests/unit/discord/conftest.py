"""A real ``CompanionBot`` on dpytest's fake Discord backend, over a ``FakeClient``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import discord.ext.test as dpytest
import pytest
from discord_fakes import FakeClient

from companion.channels.discord import CompanionBot
from companion.settings.channels import ChannelSettings


@pytest.fixture
def fake() -> FakeClient:
    return FakeClient()


@pytest.fixture
async def bot(fake: FakeClient) -> AsyncIterator[CompanionBot]:
    settings = ChannelSettings(discord_admin_ids=[])
    bot = CompanionBot(fake, settings, intents=discord.Intents.all(), sync_commands=False)
    await bot._async_setup_hook()
    await bot.setup_hook()
    dpytest.configure(bot, members=2)
    # configure() swaps in dpytest's connection state, whose loop is unset until now.
    bot._connection.loop = asyncio.get_running_loop()
    yield bot
    await dpytest.empty_queue()
