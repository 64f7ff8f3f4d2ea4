"""Chat channels (Discord, Telegram) and the one client interface they share."""

from __future__ import annotations

from companion.channels.client import (
    ChannelInfo,
    CompanionClient,
    CompanionItem,
    IncidentItem,
    MemoryItem,
    PersonalityView,
    ProactiveSettings,
    Status,
    SystemStatus,
)
from companion.channels.inprocess import InProcessClient
from companion.channels.remote import RemoteClient

__all__ = [
    "ChannelInfo",
    "CompanionClient",
    "CompanionItem",
    "InProcessClient",
    "IncidentItem",
    "MemoryItem",
    "PersonalityView",
    "ProactiveSettings",
    "RemoteClient",
    "Status",
    "SystemStatus",
]
