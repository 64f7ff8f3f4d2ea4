"""Proactive delivery on Discord: DM first, then the last server channel with a mention.

Implements the proactive engine's delivery port. The outcome says
how the message went (``dm``, ``channel``) or why it did not, and the proactive engine
records it.
"""

from __future__ import annotations

import asyncio
import logging

import discord

from companion.channels.client import CompanionClient
from companion.channels.discord.chunking import split_message
from companion.proactive import DeliveryOutcome

__all__ = ["DiscordDelivery"]

log = logging.getLogger(__name__)

_PREFIX = "discord:"


class DiscordDelivery:
    """Sends a proactive message to a ``discord:<id>`` user through a running bot."""

    channel = "discord"

    def __init__(self, bot: discord.Client, client: CompanionClient) -> None:
        self.bot = bot
        self.client = client

    def handles(self, user_id: str) -> bool:
        """Only Discord users."""
        return user_id.startswith(_PREFIX)

    async def deliver(self, user_id: str, text: str) -> DeliveryOutcome:
        """DM the user; if DMs are closed, mention them where they last spoke."""
        if not self.handles(user_id) or not user_id[len(_PREFIX) :].isdigit():
            return DeliveryOutcome(False, "discord", detail="not a discord user")
        account = int(user_id[len(_PREFIX) :])
        try:
            user = self.bot.get_user(account) or await self.bot.fetch_user(account)
            for chunk in split_message(text):
                await user.send(chunk)
            return DeliveryOutcome(True, "discord", via="dm")
        except discord.Forbidden:
            log.info("discord DMs closed, trying the last channel", extra={"user_id": user_id})
        except discord.HTTPException as exc:
            return DeliveryOutcome(False, "discord", detail=f"discord error {exc.status}")
        return await self._fallback(user_id, account, text)

    async def deliver_when_ready(self, user_id: str, text: str) -> DeliveryOutcome:
        """``deliver`` once the bot has logged in (queued messages arrive at start-up)."""
        for _ in range(600):  # discord.py cannot wait before login starts: retry that
            try:
                await self.bot.wait_until_ready()
                break
            except RuntimeError:
                await asyncio.sleep(1.0)
        return await self.deliver(user_id, text)

    async def _fallback(self, user_id: str, account: int, text: str) -> DeliveryOutcome:
        info = await self.client.last_channel(user_id, self.channel)
        if info is None or info.kind != "guild" or not info.chat_id.isdigit():
            return DeliveryOutcome(
                False, "discord", detail="DMs closed and no server channel known"
            )
        try:
            channel = self.bot.get_channel(int(info.chat_id)) or await self.bot.fetch_channel(
                int(info.chat_id)
            )
            if not isinstance(channel, discord.abc.Messageable):
                return DeliveryOutcome(False, "discord", detail="last channel cannot take messages")
            mention = discord.AllowedMentions(everyone=False, roles=False, users=True)
            for chunk in split_message(f"<@{account}> {text}"):
                await channel.send(chunk, allowed_mentions=mention)
        except discord.HTTPException as exc:
            return DeliveryOutcome(
                False, "discord", detail=f"discord error {exc.status} in last channel"
            )
        return DeliveryOutcome(True, "discord", via="channel")
