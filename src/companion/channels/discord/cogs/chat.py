"""Conversation: DMs always; in servers when mentioned or in a configured channel."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from companion.channels.client import ChannelInfo
from companion.channels.discord import texts
from companion.channels.discord.chunking import split_message
from companion.conversation.types import TurnRequest, TurnResult

if TYPE_CHECKING:
    from companion.channels.discord.bot import CompanionBot

__all__ = ["ChatCog", "setup"]

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<@!?(\d+)>")


class ChatCog(commands.Cog):
    """Turns Discord messages into turns, one at a time per user."""

    def __init__(self, bot: CompanionBot) -> None:
        self.bot = bot
        #: The channel we last recorded per user, so we write only when it changes.
        self._recorded: dict[str, str] = {}

    def _addressed(self, message: discord.Message) -> bool:
        if message.guild is None:
            return True
        if message.channel.id in self.bot.channel_settings.discord_channel_ids:
            return True
        return self.bot.user is not None and self.bot.user in message.mentions

    def _text(self, message: discord.Message) -> str:
        me = self.bot.user.id if self.bot.user else None
        return _MENTION.sub(
            lambda m: "" if me is not None and int(m.group(1)) == me else m.group(0),
            message.content,
        ).strip()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a message addressed to the companion, or say we're still busy."""
        if message.author.bot or not self._addressed(message):
            return
        text = self._text(message)
        if not text:
            return
        user_id = texts.user_id_for(message.author.id)
        with self.bot.gate.claim(user_id) as mine:
            if not mine:
                await message.reply(texts.BUSY, mention_author=False)
                return
            await self._answer(message, user_id, text)

    async def _answer(self, message: discord.Message, user_id: str, text: str) -> None:
        try:
            await self._remember_channel(message, user_id)
            async with message.channel.typing():
                result = await self._turn(message, user_id, text)
        except Exception as exc:  # the one place a failed turn becomes a reply
            await message.reply(self.bot.friendly(exc, where="message"), mention_author=False)
            return
        for index, chunk in enumerate(split_message(result.reply)):
            if index == 0:
                await message.reply(chunk, mention_author=False)
            else:
                await message.channel.send(chunk)

    async def _turn(self, message: discord.Message, user_id: str, text: str) -> TurnResult:
        request = TurnRequest(
            user_id=user_id,
            text=text,
            channel="discord",
            external_conversation_id=f"discord:{message.channel.id}",
            username=message.author.name,
            message_external_id=str(message.id),
            is_admin=self.bot.is_admin(message.author),  # admins may use tools
        )
        # The lock is held for the whole call, so the call must end
        # (DECISIONS.md#one-answer-per-user).
        async with asyncio.timeout(self.bot.turn_timeout):
            return await self.bot.companion.turn(request)

    async def _remember_channel(self, message: discord.Message, user_id: str) -> None:
        """Record where the user spoke; a failure here must not cost the reply."""
        key = str(message.channel.id)
        if self._recorded.get(user_id) == key:
            return
        info = ChannelInfo(
            channel="discord",
            account_id=str(message.author.id),
            chat_id=key,
            kind="dm" if message.guild is None else "guild",
            guild_id=str(message.guild.id) if message.guild else None,
        )
        try:
            await self.bot.companion.remember_channel(user_id, info)
        except Exception:
            log.warning("could not record the discord channel", exc_info=True)
            return
        self._recorded[user_id] = key


async def setup(bot: CompanionBot) -> None:
    """Extension entry point."""
    await bot.add_cog(ChatCog(bot))
