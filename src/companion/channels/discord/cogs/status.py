"""``/companion status``, ``setup``, ``list`` and ``switch``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from companion.channels.discord import texts
from companion.channels.discord.formatting import companions_embed, status_embed
from companion.channels.discord.views import CompanionPicker
from companion.errors import NotFound

if TYPE_CHECKING:
    from companion.channels.client import CompanionItem
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

    @app_commands.command(name="list", description="Your companions, and switch between them")
    async def list_(self, interaction: discord.Interaction) -> None:
        """Every companion of the caller with a menu only the caller may use."""
        user_id = texts.user_id_for(interaction.user.id)
        items = await self.bot.companion.companions(user_id)
        view = CompanionPicker(self.bot, owner_id=interaction.user.id, user_id=user_id, items=items)
        await interaction.response.send_message(
            embed=companions_embed(items), view=view, ephemeral=True
        )

    @app_commands.command(name="switch", description="Talk with another of your companions")
    @app_commands.describe(companion="Its name or id (see /companion list)")
    async def switch(self, interaction: discord.Interaction, companion: str) -> None:
        """Make the named companion the active one."""
        user_id = texts.user_id_for(interaction.user.id)
        chosen = pick_companion(await self.bot.companion.companions(user_id), companion)
        done = await self.bot.companion.switch_companion(user_id, chosen.id)
        await interaction.response.send_message(texts.switched(done.name), ephemeral=True)


def pick_companion(items: list[CompanionItem], wanted: str) -> CompanionItem:
    """The companion whose id or name (any case) is ``wanted``, or ``NotFound``."""
    wanted = " ".join(wanted.split()).casefold()
    for item in items:
        if str(item.id) == wanted or item.name.casefold() == wanted:
            return item
    raise NotFound(f"no companion called {wanted!r}")


async def setup(bot: CompanionBot) -> None:
    """Extension entry point."""
    await bot.add_cog(StatusCog(bot))
