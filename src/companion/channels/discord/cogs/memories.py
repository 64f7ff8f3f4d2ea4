"""``/memories recent``, ``/memories search`` and ``/forget`` (with a confirmation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from companion.channels.discord import texts
from companion.channels.discord.formatting import memories_text
from companion.channels.discord.views import OwnerView

if TYPE_CHECKING:
    from companion.channels.discord.bot import CompanionBot

__all__ = ["ConfirmForget", "ForgetCog", "MemoriesCog", "setup"]


class ConfirmForget(OwnerView):
    """Two buttons; only the user who asked can press them."""

    where = "/forget button"

    def __init__(self, bot: CompanionBot, *, owner_id: int, memory_id: str | None) -> None:
        super().__init__(bot, owner_id=owner_id)
        self.memory_id = memory_id
        self.forgotten: int | None = None

    @discord.ui.button(label="Forget", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction, _: discord.ui.Button[ConfirmForget]
    ) -> None:
        """Forget, then say how many memories went."""
        self.stop()
        user_id = texts.user_id_for(self.owner_id)
        self.forgotten = await self.bot.companion.forget(user_id, self.memory_id)
        noun = "memory" if self.forgotten == 1 else "memories"
        await interaction.response.edit_message(
            content=f"Forgotten {self.forgotten} {noun}.", view=None
        )

    @discord.ui.button(label="Keep", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction, _: discord.ui.Button[ConfirmForget]
    ) -> None:
        """Leave everything as it is."""
        self.stop()
        await interaction.response.edit_message(content=texts.FORGET_CANCELLED, view=None)


class MemoriesCog(commands.GroupCog, group_name="memories"):
    """What the companion remembers about you."""

    def __init__(self, bot: CompanionBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="recent", description="What I remember most recently")
    async def recent(
        self, interaction: discord.Interaction, limit: app_commands.Range[int, 1, 25] = 10
    ) -> None:
        """The caller's most recent memories."""
        items = await self.bot.companion.memories(
            texts.user_id_for(interaction.user.id), limit=limit
        )
        text = memories_text(items, heading="Here's what I remember lately:")
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="search", description="Search what I remember")
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 200],
        limit: app_commands.Range[int, 1, 25] = 5,
    ) -> None:
        """The caller's memories that best match ``query``."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        user_id = texts.user_id_for(interaction.user.id)
        items = await self.bot.companion.memories(user_id, query=query, limit=limit)
        await interaction.followup.send(
            memories_text(items, heading=f"About “{query}”, I remember:"), ephemeral=True
        )


class ForgetCog(commands.Cog):
    """``/forget`` is top-level: it is the one destructive memory command."""

    def __init__(self, bot: CompanionBot) -> None:
        self.bot = bot

    @app_commands.command(name="forget", description="Forget one memory (by id) or all")
    @app_commands.describe(target="A memory id from /memories, or 'all'")
    async def forget(
        self, interaction: discord.Interaction, target: app_commands.Range[str, 1, 64]
    ) -> None:
        """Ask for confirmation before forgetting."""
        memory_id = None if target.strip().lower() == "all" else target.strip()
        what = "everything I remember about you" if memory_id is None else f"memory `{memory_id}`"
        view = ConfirmForget(self.bot, owner_id=interaction.user.id, memory_id=memory_id)
        await interaction.response.send_message(
            f"Should I really forget {what}? This cannot be undone.", view=view, ephemeral=True
        )


async def setup(bot: CompanionBot) -> None:
    """Extension entry point."""
    await bot.add_cog(MemoriesCog(bot))
    await bot.add_cog(ForgetCog(bot))
