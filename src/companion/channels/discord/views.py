"""Button views shared by the cogs: only the user who asked may press them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from companion.channels.discord.bot import CompanionBot

__all__ = ["OwnerView"]


class OwnerView(discord.ui.View):
    """A confirmation for one user: others cannot press it (or see its result), and a
    failing button answers through the bot's one error handler, naming ``where``."""

    where = "button"

    def __init__(self, bot: CompanionBot, *, owner_id: int) -> None:
        super().__init__(timeout=120)
        self.bot = bot
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Nobody else may confirm someone's request."""
        return interaction.user.id == self.owner_id

    async def on_error(
        self,
        interaction: discord.Interaction,
        error: Exception,
        item: discord.ui.Item[Any],
        /,
    ) -> None:
        """Buttons bypass the command tree, so route errors to the bot's one handler."""
        message = self.bot.friendly(error, where=self.where)
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.edit_message(content=message, view=None)
