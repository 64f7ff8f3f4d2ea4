"""``CompanionClient`` over the runtime's services, for bots inside ``companion serve``.

The turn, state and retrieval go through the pipeline and the domain ports; profile
fields (proactive settings, last channel) through the users repository. Operations
that only one domain service offers (choosing a preset, listing or forgetting
memories, clearing short-term context, exporting) call that service by name and
raise ``ConfigError`` naming what is missing if it is not wired.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from companion.channels.client import (
    ChannelInfo,
    MemoryItem,
    PersonalityView,
    ProactiveSettings,
    Status,
)
from companion.channels.validation import validate_quiet_hours, validate_timezone
from companion.conversation.types import TurnRequest, TurnResult
from companion.errors import ConfigError
from companion.store.repositories import users

if TYPE_CHECKING:
    from companion.conversation.ports import CompanionState
    from companion.runtime import Runtime

__all__ = ["InProcessClient"]


def _pad(state: CompanionState) -> dict[str, float]:
    pad = state.pad
    return {"pleasure": pad.pleasure, "arousal": pad.arousal, "dominance": pad.dominance}


def _status(state: CompanionState) -> Status:
    return Status(
        user_id=state.user_id,
        name=state.name,
        preset=state.preset,
        emotion=state.emotion,
        pad=_pad(state),
        urgent_needs=list(state.urgent_needs),
    )


class InProcessClient:
    """The engine in this process: calls ``runtime`` services directly."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def _service(self, name: str) -> Any:
        service = getattr(self.runtime, name, None)
        if service is None:
            raise ConfigError(f"the {name} service is not wired into the runtime")
        return service

    async def _call(self, service: str, method: str, **kwargs: Any) -> Any:
        target = getattr(self._service(service), method, None)
        if target is None:
            raise ConfigError(f"runtime.{service} has no {method}()")
        result = target(**kwargs)
        return await result if inspect.isawaitable(result) else result

    async def _ensure(self, user_id: str, username: str | None = None) -> None:
        async with self.runtime.db.transaction() as session:
            await users.ensure_user(session, user_id=user_id, username=username)

    async def turn(self, request: TurnRequest) -> TurnResult:
        """Answer through the one turn pipeline (which runs the security check)."""
        await self._ensure(request.user_id, request.username)
        result: TurnResult = await self._service("conversation").turn(request)
        return result

    async def status(self, user_id: str) -> Status:
        """Mood, emotion and urgent needs from the personality engine."""
        await self._ensure(user_id)
        return _status(await self._service("personality").load_state(user_id=user_id))

    async def setup(self, user_id: str, preset: str) -> Status:
        """Create the user and apply ``preset`` through the personality engine."""
        await self._ensure(user_id)
        await self._call("personality", "apply_preset", user_id=user_id, preset=preset)
        return await self.status(user_id)

    async def memories(
        self, user_id: str, *, query: str | None = None, limit: int = 10
    ) -> list[MemoryItem]:
        """Retrieval for a query; otherwise the memory service's recent list."""
        if query:
            found = await self._service("memory").retrieve(user_id=user_id, query=query, k=limit)
        else:
            found = await self._call("memory", "recent", user_id=user_id, limit=limit)
        return [
            MemoryItem(
                id=str(m.id),
                content=m.content,
                memory_type=getattr(m, "memory_type", "episodic"),
                created_at=m.created_at.isoformat() if getattr(m, "created_at", None) else None,
            )
            for m in found
        ]

    async def forget(self, user_id: str, memory_id: str | None) -> int:
        """Forget one memory or all of them (memory service)."""
        if memory_id is None:
            return int(await self._call("memory", "forget_all", user_id=user_id))
        return int(await self._call("memory", "forget", user_id=user_id, memory_id=memory_id))

    async def personality(self, user_id: str) -> PersonalityView:
        """The personality engine's current state for the user."""
        await self._ensure(user_id)
        state = await self._service("personality").load_state(user_id=user_id)
        return PersonalityView(
            name=state.name,
            preset=state.preset,
            big_five=dict(state.big_five),
            pad=_pad(state),
            emotion=state.emotion,
            quirks=list(state.quirks),
            style=dict(state.style),
        )

    async def proactive(
        self,
        user_id: str,
        *,
        enabled: bool | None = None,
        quiet_hours: str | None = None,
        timezone: str | None = None,
    ) -> ProactiveSettings:
        """Read or change the user's proactive fields (validated before storing)."""
        changes: dict[str, Any] = {}
        if enabled is not None:
            changes["proactive_messaging_enabled"] = enabled
        if quiet_hours is not None:
            changes["quiet_hours"] = validate_quiet_hours(quiet_hours)
        if timezone is not None:
            changes["timezone"] = validate_timezone(timezone)
        await self._ensure(user_id)
        async with self.runtime.db.transaction() as session:
            user = await users.update_user(session, user_id=user_id, changes=changes)
            return ProactiveSettings(
                enabled=user.proactive_messaging_enabled,
                quiet_hours=user.quiet_hours,
                timezone=user.timezone,
            )

    async def reset(self, user_id: str, *, conversation: str | None = None) -> None:
        """Clear short-term context through the pipeline; long-term memory stays."""
        await self._call(
            "conversation", "reset", user_id=user_id, external_conversation_id=conversation
        )

    async def export(self, user_id: str) -> dict[str, Any]:
        """The pipeline's export of everything stored about the user."""
        data: dict[str, Any] = await self._call("conversation", "export", user_id=user_id)
        return data

    async def remember_channel(self, user_id: str, info: ChannelInfo) -> None:
        """Merge ``info`` into ``users.channels`` (other channels are kept)."""
        await self._ensure(user_id)
        async with self.runtime.db.transaction() as session:
            user = await users.get_user(session, user_id=user_id)
            channels = {**(user.channels or {}), info.channel: info.as_dict()}
            await users.update_user(session, user_id=user_id, changes={"channels": channels})

    async def last_channel(self, user_id: str, channel: str) -> ChannelInfo | None:
        """Read ``users.channels[channel]``."""
        async with self.runtime.db.transaction() as session:
            user = await users.get_user(session, user_id=user_id)
        data = (user.channels or {}).get(channel)
        return ChannelInfo.from_dict(channel, data) if isinstance(data, dict) else None

    async def aclose(self) -> None:
        """Nothing to release: the runtime belongs to its owner."""
