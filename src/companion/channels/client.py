"""What a chat channel (Discord, Telegram) needs from the engine, in one Protocol.

A bot never touches the database or a model: it calls a ``CompanionClient``. Two
implementations exist — ``InProcessClient`` (the bot runs inside ``companion serve``
and calls the runtime's services) and ``RemoteClient`` (the bot runs alone and talks
to a gateway over HTTP with an admin API key that acts for ``discord:<id>`` users).
Both raise the engine's own errors (``companion.errors``), so a channel handles
``Busy``, ``NotFound`` or ``InvalidInput`` the same way whichever is in use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from companion.conversation.types import TurnRequest, TurnResult

__all__ = [
    "ChannelInfo",
    "CompanionClient",
    "CompanionItem",
    "IncidentItem",
    "MemoryItem",
    "PersonalityView",
    "ProactiveSettings",
    "Status",
    "SystemStatus",
]


@dataclass(frozen=True)
class Status:
    """How the companion is doing with one user (``/companion``)."""

    user_id: str
    name: str
    preset: str
    emotion: str
    pad: dict[str, float]
    urgent_needs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CompanionItem:
    """One of the user's companions (``/companion list``)."""

    id: int
    name: str
    active: bool
    private: bool = False
    from_card: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompanionItem:
        """From the API's (and the personality domain's) companion view."""
        return cls(
            id=int(data["id"]),
            name=str(data["name"]),
            active=bool(data["active"]),
            private=bool(data.get("private", False)),
            from_card=bool(data.get("from_card", False)),
        )


@dataclass(frozen=True)
class MemoryItem:
    """One memory as a user may see it."""

    id: str
    content: str
    memory_type: str = "episodic"
    created_at: str | None = None


@dataclass(frozen=True)
class PersonalityView:
    """The companion's personality for one user (``/personality``)."""

    name: str
    preset: str
    big_five: dict[str, float]
    pad: dict[str, float]
    emotion: str
    quirks: list[str] = field(default_factory=list)
    style: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ProactiveSettings:
    """Whether and when the companion may start a conversation."""

    enabled: bool
    quiet_hours: str | None
    timezone: str


@dataclass(frozen=True)
class SystemStatus:
    """How the whole system is doing, for admins (``/status`` on Telegram)."""

    users: int
    turns_last_5_minutes: int
    turns_last_24h: int
    errors_last_24h: int
    models: list[str] = field(default_factory=list)

    @property
    def turns_per_minute(self) -> float:
        """The recent rate of turns (over the last five minutes)."""
        return self.turns_last_5_minutes / 5


@dataclass(frozen=True)
class IncidentItem:
    """One security incident as an admin sees it (``/incidents``)."""

    id: int
    user_id: str
    category: str
    confidence: float
    action: str
    content: str
    detected_at: str


@dataclass(frozen=True)
class ChannelInfo:
    """Where a user last spoke on a channel, for delivering proactive messages.

    Stored under ``users.channels[channel]``; ``kind`` is ``"dm"``, ``"guild"`` or
    ``"group"``. ``undeliverable`` is set when the platform said the user blocked the
    bot, so proactive messages stop trying until the user writes again.
    """

    channel: str
    account_id: str
    chat_id: str
    kind: str = "dm"
    guild_id: str | None = None
    undeliverable: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The JSON stored for this channel."""
        return {
            "account_id": self.account_id,
            "chat_id": self.chat_id,
            "kind": self.kind,
            "guild_id": self.guild_id,
            "undeliverable": self.undeliverable,
        }

    @classmethod
    def from_dict(cls, channel: str, data: dict[str, Any]) -> ChannelInfo:
        """Read back what ``as_dict`` stored."""
        return cls(
            channel=channel,
            account_id=str(data.get("account_id", "")),
            chat_id=str(data.get("chat_id", "")),
            kind=str(data.get("kind", "dm")),
            guild_id=data.get("guild_id"),
            undeliverable=bool(data.get("undeliverable", False)),
        )


@runtime_checkable
class CompanionClient(Protocol):
    """The engine as a channel sees it. Every method acts for exactly one user."""

    async def turn(self, request: TurnRequest) -> TurnResult:
        """Answer one message (creating the user on first contact)."""
        ...

    async def status(self, user_id: str) -> Status:
        """Mood, emotion and urgent needs."""
        ...

    async def setup(self, user_id: str, preset: str) -> Status:
        """Create the user if new and give the companion ``preset``'s personality."""
        ...

    async def companions(self, user_id: str) -> list[CompanionItem]:
        """The user's companions, oldest first (one of them active)."""
        ...

    async def switch_companion(self, user_id: str, companion_id: int) -> CompanionItem:
        """Make the user's companion ``companion_id`` the active one (``NotFound`` if it
        is not theirs)."""
        ...

    async def memories(
        self, user_id: str, *, query: str | None = None, limit: int = 10
    ) -> list[MemoryItem]:
        """The most recent memories, or the best matches for ``query``."""
        ...

    async def forget(self, user_id: str, memory_id: str | None) -> int:
        """Forget one memory (``None``: all of them); returns how many were forgotten."""
        ...

    async def personality(self, user_id: str) -> PersonalityView:
        """Big Five, PAD, quirks and style traits."""
        ...

    async def proactive(
        self,
        user_id: str,
        *,
        enabled: bool | None = None,
        quiet_hours: str | None = None,
        timezone: str | None = None,
    ) -> ProactiveSettings:
        """Change the given proactive settings (none: just read them)."""
        ...

    async def reset(self, user_id: str, *, conversation: str | None = None) -> None:
        """Clear the short-term context (of one external conversation, or all)."""
        ...

    async def export(self, user_id: str) -> dict[str, Any]:
        """Everything stored about the user, as JSON-ready data."""
        ...

    async def delete_user(self, user_id: str) -> dict[str, int]:
        """Delete the user and all their data (one transaction); rows removed per table."""
        ...

    async def remember_channel(self, user_id: str, info: ChannelInfo) -> None:
        """Record where the user last spoke (delivery fallback)."""
        ...

    async def last_channel(self, user_id: str, channel: str) -> ChannelInfo | None:
        """Where the user last spoke on ``channel``, if known."""
        ...

    async def system_status(self) -> SystemStatus:
        """System-wide counts and models in use (admins only: the channel checks)."""
        ...

    async def incidents(self, *, limit: int = 10) -> list[IncidentItem]:
        """The latest security incidents, newest first (admins only: the channel checks)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
