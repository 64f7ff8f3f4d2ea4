"""The Discord bot: receives its client, loads one cog per feature, one error handler.

Follows discord.py's ``advanced_startup.py``: dependencies come in through
``__init__``, extensions load in ``setup_hook``, and app commands sync to the test
guild (``DISCORD_GUILD_ID``) when one is configured, globally otherwise.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from companion.channels.client import CompanionClient
from companion.channels.discord import texts
from companion.channels.discord.gate import UserGate
from companion.errors import Busy, InvalidInput, NotFound, RateLimited
from companion.settings.channels import ChannelSettings

__all__ = ["EXTENSIONS", "CompanionBot"]

log = logging.getLogger(__name__)

EXTENSIONS = (
    "companion.channels.discord.cogs.chat",
    "companion.channels.discord.cogs.status",
    "companion.channels.discord.cogs.memories",
    "companion.channels.discord.cogs.personality",
    "companion.channels.discord.cogs.proactive",
    "companion.channels.discord.cogs.account",
    "companion.channels.discord.cogs.admin",
)


def default_intents() -> discord.Intents:
    """Guilds, DMs and message content (a privileged intent to enable in the portal)."""
    intents = discord.Intents.default()
    intents.message_content = True
    return intents


class CompanionBot(commands.Bot):
    """A thin adapter: every question goes to ``self.companion``."""

    def __init__(
        self,
        companion: CompanionClient,
        settings: ChannelSettings,
        *,
        intents: discord.Intents | None = None,
        sync_commands: bool = True,
        turn_timeout: float = 180.0,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents or default_intents(),
            help_command=None,
        )
        self.companion = companion
        self.channel_settings = settings
        self.gate = UserGate()
        self.sync_commands = sync_commands
        self.turn_timeout = turn_timeout

    async def setup_hook(self) -> None:
        """Load the cogs (logging any that fail) and sync the slash commands."""
        for extension in EXTENSIONS:
            try:
                await self.load_extension(extension)
            except commands.ExtensionError:
                log.exception("discord extension failed to load", extra={"ext": extension})
        self.tree.error(self.on_app_command_error)
        if self.sync_commands:
            await self._sync()

    async def _sync(self) -> None:
        guild_id = self.channel_settings.discord_guild_id
        if guild_id is None:
            synced = await self.tree.sync()
        else:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        log.info("discord commands synced", extra={"count": len(synced), "guild": guild_id})

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: ``ChatCog`` answers messages, slash commands do the rest."""

    async def on_ready(self) -> None:
        """Deploy checks grep the log for "Bot is ready"."""
        log.info("Bot is ready", extra={"bot_user": str(self.user)})

    def is_admin(self, user: discord.abc.User) -> bool:
        """Whether ``user`` is in ``DISCORD_ADMIN_IDS``."""
        return user.id in self.channel_settings.discord_admin_ids

    def friendly(self, error: BaseException, *, where: str) -> str:
        """The in-character text for ``error``; unexpected errors are logged in full."""
        if isinstance(error, app_commands.CommandInvokeError):
            error = error.original
        if isinstance(error, Busy):
            return texts.BUSY
        if isinstance(error, InvalidInput):
            return f"Hmm, I can't do that: {error}"
        if isinstance(error, NotFound):
            return "I couldn't find that."
        if isinstance(error, RateLimited):
            return "Let's slow down a little — try again in a moment."
        if isinstance(error, app_commands.CheckFailure):
            return texts.NOT_ADMIN
        log.error("discord handler failed", exc_info=error, extra={"where": where})
        return texts.ERROR

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """The one error handler for slash commands: friendly reply plus a log line."""
        name = interaction.command.qualified_name if interaction.command else "?"
        message = self.friendly(error, where=f"/{name}")
        log.info("discord command failed", extra={"command": name, "error": type(error).__name__})
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
