"""``/reset`` (short-term context only), ``/export`` (a JSON file by DM) and
``/delete-my-data`` (the whole account, after the owner presses a confirmation)."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from companion.channels.discord import texts
from companion.channels.discord.views import OwnerView

if TYPE_CHECKING:
    from companion.channels.discord.bot import CompanionBot

__all__ = ["AccountCog", "ConfirmDeleteData", "setup"]


class ConfirmDeleteData(OwnerView):
    """Delete or keep; only the user who asked can press, and nothing happens before."""

    where = "/delete-my-data button"

    def __init__(self, bot: CompanionBot, *, owner_id: int) -> None:
        super().__init__(bot, owner_id=owner_id)
        self.removed: dict[str, int] | None = None

    @discord.ui.button(label="Delete everything", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction, _: discord.ui.Button[ConfirmDeleteData]
    ) -> None:
        """Delete the account and say so."""
        self.stop()
        self.removed = await self.bot.companion.delete_user(texts.user_id_for(self.owner_id))
        await interaction.response.edit_message(content=texts.DATA_DELETED, view=None)

    @discord.ui.button(label="Keep", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction, _: discord.ui.Button[ConfirmDeleteData]
    ) -> None:
        """Leave everything as it is."""
        self.stop()
        await interaction.response.edit_message(content=texts.DELETE_CANCELLED, view=None)


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

    @app_commands.command(
        name="delete-my-data", description="Delete everything I keep about you (asks first)"
    )
    async def delete_my_data(self, interaction: discord.Interaction) -> None:
        """Ask the caller to confirm before deleting their account and all its data."""
        view = ConfirmDeleteData(self.bot, owner_id=interaction.user.id)
        await interaction.response.send_message(texts.DELETE_QUESTION, view=view, ephemeral=True)


async def setup(bot: CompanionBot) -> None:
    """Extension entry point."""
    await bot.add_cog(AccountCog(bot))
