"""The Discord channel: a thin discord.py adapter over a ``CompanionClient``."""

from __future__ import annotations

from companion.channels.discord.bot import CompanionBot, default_intents
from companion.channels.discord.chunking import DISCORD_LIMIT, split_message
from companion.channels.discord.delivery import DiscordDelivery
from companion.channels.discord.gate import UserGate
from companion.channels.discord.runner import (
    DiscordService,
    launch,
    start_discord,
    stop_discord,
)
from companion.channels.discord.texts import BUSY, ERROR, user_id_for

__all__ = [
    "BUSY",
    "DISCORD_LIMIT",
    "ERROR",
    "CompanionBot",
    "DiscordDelivery",
    "DiscordService",
    "UserGate",
    "default_intents",
    "launch",
    "split_message",
    "start_discord",
    "stop_discord",
    "user_id_for",
]
