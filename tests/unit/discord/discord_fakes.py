"""A ``CompanionClient`` that records calls and answers from memory (unit tests only)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from companion.channels import (
    ChannelInfo,
    CompanionItem,
    MemoryItem,
    PersonalityView,
    ProactiveSettings,
    Status,
)
from companion.conversation.types import TurnRequest, TurnResult
from companion.errors import InvalidInput, NotFound


def _check_quiet(text: str) -> str:
    start, sep, end = text.partition("-")
    if not (sep and start.isdigit() and end.isdigit()):
        raise InvalidInput(f"quiet hours must look like '23-08', got {text!r}")
    return f"{int(start):02d}-{int(end):02d}"


class FakeClient:
    """Replies ``reply_for(text)``; ``hold`` (an Event) keeps a turn open until set."""

    def __init__(self) -> None:
        self.requests: list[TurnRequest] = []
        self.channels: dict[str, dict[str, ChannelInfo]] = {}
        self.deleted: list[str] = []
        self.memory: dict[str, list[MemoryItem]] = {}
        self.settings: dict[str, ProactiveSettings] = {}
        self.presets: dict[str, str] = {}
        self.active: dict[str, int] = {}
        self.resets: list[tuple[str, str | None]] = []
        self.hold: asyncio.Event | None = None
        self.started = asyncio.Event()
        self.reply: str | None = None
        self.fail: Exception | None = None

    async def turn(self, request: TurnRequest) -> TurnResult:
        self.requests.append(request)
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.fail is not None:
            raise self.fail
        return TurnResult(
            reply=self.reply if self.reply is not None else f"you said: {request.text}",
            conversation_id=uuid.uuid4(),
            interaction_id=len(self.requests),
            emotion="content",
            pad_after={"pleasure": 0.2, "arousal": 0.1, "dominance": 0.0},
        )

    async def status(self, user_id: str) -> Status:
        preset = self.presets.get(user_id, "supportive_friend")
        pad = {"pleasure": 0.3, "arousal": -0.1, "dominance": 0.2}
        return Status(user_id, "Ava", preset, "content", pad, ["social"])

    async def setup(self, user_id: str, preset: str) -> Status:
        self.presets[user_id] = preset
        return await self.status(user_id)

    async def companions(self, user_id: str) -> list[CompanionItem]:
        active = self.active.get(user_id, 1)
        return [CompanionItem(i, n, i == active) for i, n in ((1, "Ava"), (2, "Bo"))]

    async def switch_companion(self, user_id: str, companion_id: int) -> CompanionItem:
        if companion_id not in (1, 2):
            raise NotFound(f"user {user_id!r} has no companion {companion_id}")
        self.active[user_id] = companion_id
        return next(c for c in await self.companions(user_id) if c.id == companion_id)

    async def memories(
        self, user_id: str, *, query: str | None = None, limit: int = 10
    ) -> list[MemoryItem]:
        items = self.memory.get(user_id, [])
        if query:
            items = [m for m in items if query.lower() in m.content.lower()]
        return items[:limit]

    async def forget(self, user_id: str, memory_id: str | None) -> int:
        items = self.memory.get(user_id, [])
        keep = [m for m in items if memory_id is not None and m.id != memory_id]
        self.memory[user_id] = keep
        return len(items) - len(keep)

    async def personality(self, user_id: str) -> PersonalityView:
        return PersonalityView(
            name="Ava",
            preset=self.presets.get(user_id, "supportive_friend"),
            big_five={"openness": 0.7, "conscientiousness": 0.6},
            pad={"pleasure": 0.3, "arousal": -0.1, "dominance": 0.2},
            emotion="content",
            quirks=["says 'hmm' a lot"],
            style={"warmth": 7},
        )

    async def proactive(
        self,
        user_id: str,
        *,
        enabled: bool | None = None,
        quiet_hours: str | None = None,
        timezone: str | None = None,
    ) -> ProactiveSettings:
        current = self.settings.get(user_id, ProactiveSettings(True, None, "UTC"))
        current = ProactiveSettings(
            enabled=current.enabled if enabled is None else enabled,
            quiet_hours=current.quiet_hours if quiet_hours is None else _check_quiet(quiet_hours),
            timezone=current.timezone if timezone is None else timezone,
        )
        self.settings[user_id] = current
        return current

    async def reset(self, user_id: str, *, conversation: str | None = None) -> None:
        self.resets.append((user_id, conversation))

    async def export(self, user_id: str) -> dict[str, Any]:
        return {"user_id": user_id, "memories": [m.content for m in self.memory.get(user_id, [])]}

    async def delete_user(self, user_id: str) -> dict[str, int]:
        removed = len(self.memory.pop(user_id, []))
        self.channels.pop(user_id, None)
        self.deleted.append(user_id)
        return {"memories": removed, "users": 1}

    async def remember_channel(self, user_id: str, info: ChannelInfo) -> None:
        self.channels.setdefault(user_id, {})[info.channel] = info

    async def last_channel(self, user_id: str, channel: str) -> ChannelInfo | None:
        return self.channels.get(user_id, {}).get(channel)

    async def aclose(self) -> None:
        return None


class FakeResponse:
    """``interaction.response``: records what the callback sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.deferred = False

    def is_done(self) -> bool:
        return self.deferred or bool(self.sent)

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        self.sent.append({"content": content, **kwargs})

    async def edit_message(self, *, content: str | None = None, **kwargs: Any) -> None:
        self.sent.append({"content": content, "edit": True, **kwargs})

    async def defer(self, **_: Any) -> None:
        self.deferred = True


class FakeFollowup:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, content: str | None = None, **kwargs: Any) -> None:
        self.sent.append({"content": content, **kwargs})


class FakeUser:
    """A Discord account: an id, a mention, and a DM inbox."""

    def __init__(self, user_id: int, *, dms_open: bool = True) -> None:
        self.id = user_id
        self.mention = f"<@{user_id}>"
        self.dms: list[dict[str, Any]] = []
        self.dms_open = dms_open

    async def send(self, content: str | None = None, **kwargs: Any) -> None:
        if not self.dms_open:
            import discord

            raise discord.Forbidden(_Response403(), "Cannot send messages to this user")
        self.dms.append({"content": content, **kwargs})


class _Response403:
    status = 403
    reason = "Forbidden"


class FakeInteraction:
    """What the slash command callbacks use of ``discord.Interaction``."""

    def __init__(self, client: Any, user: FakeUser, *, channel_id: int = 555) -> None:
        self.client = client
        self.user = user
        self.channel_id = channel_id
        self.response = FakeResponse()
        self.followup = FakeFollowup()
        self.command = None

    @property
    def replies(self) -> list[dict[str, Any]]:
        return self.response.sent + self.followup.sent
