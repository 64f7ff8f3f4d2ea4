"""``/proactive on|off|quiet <HH-HH>|timezone <tz>``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from companion.channels.discord import texts
from companion.channels.discord.formatting import proactive_text

if TYPE_CHECKING:
    from companion.channels.discord.bot import CompanionBot

__all__ = ["ProactiveCog", "setup"]


class ProactiveCog(commands.GroupCog, group_name="proactive"):
    """Whether and when the companion may write first."""

    def __init__(self, bot: CompanionBot) -> None:
        self.bot = bot
        super().__init__()

    async def _apply(self, interaction: discord.Interaction, **changes: object) -> None:
        user_id = texts.user_id_for(interaction.user.id)
        settings = await self.bot.companion.proactive(user_id, **changes)  # type: ignore[arg-type]
        await interaction.response.send_message(proactive_text(settings), ephemeral=True)

    @app_commands.command(name="on", description="Let me message you first sometimes")
    async def on(self, interaction: discord.Interaction) -> None:
        """Opt in."""
        await self._apply(interaction, enabled=True)

    @app_commands.command(name="off", description="Never message you first")
    async def off(self, interaction: discord.Interaction) -> None:
        """Opt out."""
        await self._apply(interaction, enabled=False)

    @app_commands.command(name="quiet", description="Hours when I stay quiet, like 22-08")
    async def quiet(
        self, interaction: discord.Interaction, hours: app_commands.Range[str, 3, 11]
    ) -> None:
        """Set quiet hours (validated by the client)."""
        await self._apply(interaction, quiet_hours=hours)

    @app_commands.command(name="timezone", description="Your time zone, like Europe/Paris")
    async def timezone(
        self, interaction: discord.Interaction, tz: app_commands.Range[str, 1, 64]
    ) -> None:
        """Set the time zone quiet hours are read in."""
        await self._apply(interaction, timezone=tz)

    @app_commands.command(name="show", description="Your proactive settings")
    async def show(self, interaction: discord.Interaction) -> None:
        """Read only."""
        await self._apply(interaction)


async def setup(bot: CompanionBot) -> None:
    """Extension entry point."""
    await bot.add_cog(ProactiveCog(bot))
