"""Button views shared by the cogs: only the user who asked may press them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from companion.channels.client import CompanionItem
from companion.channels.discord import texts

if TYPE_CHECKING:
    from companion.channels.discord.bot import CompanionBot

__all__ = ["CompanionPicker", "OwnerView"]


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


class CompanionPicker(OwnerView):
    """A menu of the user's companions; choosing one makes it the active one."""

    where = "companion switch"

    def __init__(
        self, bot: CompanionBot, *, owner_id: int, user_id: str, items: list[CompanionItem]
    ) -> None:
        super().__init__(bot, owner_id=owner_id)
        self.user_id = user_id
        # Discord allows 25 options in one menu; the list command shows them all.
        options = [
            discord.SelectOption(
                label=c.name[:100], value=str(c.id), default=c.active,
                description="active now" if c.active else None,
            )
            for c in items[:25]
        ]  # fmt: skip
        self.pick: discord.ui.Select[CompanionPicker] = discord.ui.Select(
            placeholder="Switch to…", options=options, min_values=1, max_values=1
        )
        self.pick.callback = self._picked  # type: ignore[method-assign]
        self.add_item(self.pick)

    async def _picked(self, interaction: discord.Interaction) -> None:
        await self.choose(interaction, int(self.pick.values[0]))

    async def choose(self, interaction: discord.Interaction, companion_id: int) -> None:
        """Switch to ``companion_id`` and say so in place of the menu."""
        chosen = await self.bot.companion.switch_companion(self.user_id, companion_id)
        await interaction.response.edit_message(
            content=texts.switched(chosen.name), embed=None, view=None
        )
