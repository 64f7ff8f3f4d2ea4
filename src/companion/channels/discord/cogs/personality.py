"""``/personality``: the companion's personality as an ephemeral embed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from companion.channels.discord import texts
from companion.channels.discord.formatting import personality_embed

if TYPE_CHECKING:
    from companion.channels.discord.bot import CompanionBot

__all__ = ["PersonalityCog", "setup"]


class PersonalityCog(commands.Cog):
    """Big Five, mood, quirks and style traits."""

    def __init__(self, bot: CompanionBot) -> None:
        self.bot = bot

    @app_commands.command(name="personality", description="Who your companion is right now")
    async def personality(self, interaction: discord.Interaction) -> None:
        """Only the caller sees it."""
        view = await self.bot.companion.personality(texts.user_id_for(interaction.user.id))
        await interaction.response.send_message(embed=personality_embed(view), ephemeral=True)


async def setup(bot: CompanionBot) -> None:
    """Extension entry point."""
    await bot.add_cog(PersonalityCog(bot))
