"""``/reset`` (short-term context only) and ``/export`` (a JSON file by DM)."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from companion.channels.discord import texts

if TYPE_CHECKING:
    from companion.channels.discord.bot import CompanionBot

__all__ = ["AccountCog", "setup"]


class AccountCog(commands.Cog):
    """Your data: a fresh start for the conversation, or a copy of everything."""

    def __init__(self, bot: CompanionBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="reset", description="Start this conversation afresh (memories stay)"
    )
    async def reset(self, interaction: discord.Interaction) -> None:
        """Clear the short-term context of this channel."""
        conversation = f"discord:{interaction.channel_id}" if interaction.channel_id else None
        await self.bot.companion.reset(
            texts.user_id_for(interaction.user.id), conversation=conversation
        )
        await interaction.response.send_message(
            "Fresh start — I still remember who you are.", ephemeral=True
        )

    @app_commands.command(name="export", description="Get everything I keep about you, by DM")
    async def export(self, interaction: discord.Interaction) -> None:
        """Send the caller's own data as a JSON file to the caller's DMs."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await self.bot.companion.export(texts.user_id_for(interaction.user.id))
        payload = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()
        file = discord.File(io.BytesIO(payload), filename="companion-export.json")
        try:
            await interaction.user.send("Here is everything I keep about you.", file=file)
        except discord.Forbidden:
            await interaction.followup.send(
                "I couldn't DM you — please allow direct messages from this server.",
                ephemeral=True,
            )
            return
        await interaction.followup.send(texts.EXPORT_SENT, ephemeral=True)


async def setup(bot: CompanionBot) -> None:
    """Extension entry point."""
    await bot.add_cog(AccountCog(bot))
