"""Admin-only commands (``DISCORD_ADMIN_IDS``): look at another user's companion."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from companion.channels.discord import texts
from companion.channels.discord.formatting import status_embed

if TYPE_CHECKING:
    from companion.channels.discord.bot import CompanionBot

__all__ = ["AdminCog", "is_admin", "setup"]


def _is_admin(interaction: discord.Interaction) -> bool:
    bot: CompanionBot = interaction.client  # type: ignore[assignment]
    if not bot.is_admin(interaction.user):
        raise app_commands.CheckFailure("not an admin")
    return True


is_admin = app_commands.check(_is_admin)


class AdminCog(commands.GroupCog, group_name="companion-admin"):
    """The only commands that may show someone else's data."""

    def __init__(self, bot: CompanionBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="status", description="(admin) A user's companion status")
    @is_admin
    async def status(self, interaction: discord.Interaction, user: discord.User) -> None:
        """Status of ``user``'s companion, shown only to the admin."""
        status = await self.bot.companion.status(texts.user_id_for(user.id))
        await interaction.response.send_message(embed=status_embed(status), ephemeral=True)

    @app_commands.command(name="reset", description="(admin) Clear a user's short-term context")
    @is_admin
    async def reset(self, interaction: discord.Interaction, user: discord.User) -> None:
        """Reset every conversation of ``user`` (long-term memory stays)."""
        await self.bot.companion.reset(texts.user_id_for(user.id))
        await interaction.response.send_message(f"Reset {user.mention}'s context.", ephemeral=True)


async def setup(bot: CompanionBot) -> None:
    """Extension entry point."""
    await bot.add_cog(AdminCog(bot))
