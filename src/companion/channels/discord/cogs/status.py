"""``/companion status`` and ``/companion setup``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from companion.channels.discord import texts
from companion.channels.discord.formatting import status_embed

if TYPE_CHECKING:
    from companion.channels.discord.bot import CompanionBot

__all__ = ["StatusCog", "setup"]

_PRESETS = [app_commands.Choice(name=p.replace("_", " "), value=p) for p in texts.PRESETS]


class StatusCog(commands.GroupCog, group_name="companion"):
    """How your companion is doing, and choosing who it is."""

    def __init__(self, bot: CompanionBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="status", description="Your companion's mood and needs")
    async def status(self, interaction: discord.Interaction) -> None:
        """Show mood, emotion and urgent needs (only to the caller)."""
        status = await self.bot.companion.status(texts.user_id_for(interaction.user.id))
        await interaction.response.send_message(embed=status_embed(status), ephemeral=True)

    @app_commands.command(name="setup", description="Choose your companion's personality")
    @app_commands.describe(preset="The personality to start from")
    @app_commands.choices(preset=_PRESETS)
    async def setup_(self, interaction: discord.Interaction, preset: str) -> None:
        """Create the user if new and apply ``preset``."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        status = await self.bot.companion.setup(texts.user_id_for(interaction.user.id), preset)
        await interaction.followup.send(
            f"Done — I'm your {preset.replace('_', ' ')} now.",
            embed=status_embed(status),
            ephemeral=True,
        )


async def setup(bot: CompanionBot) -> None:
    """Extension entry point."""
    await bot.add_cog(StatusCog(bot))
