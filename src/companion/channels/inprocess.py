"""``CompanionClient`` over the runtime's services, for bots inside ``companion serve``.

Each method is one call to the service that owns the data: the turn pipeline
(``runtime.conversation``), personality, memory and proactive services, and the
users repository for the per-channel contact details. Validation stays in those
services, so a bot and the HTTP API reject the same bad input with the same words.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from companion.channels.client import (
    ChannelInfo,
    CompanionItem,
    IncidentItem,
    MemoryItem,
    PersonalityView,
    ProactiveSettings,
    Status,
    SystemStatus,
)
from companion.conversation.types import TurnRequest, TurnResult
from companion.errors import ConfigError, InvalidInput
from companion.store.repositories import stats, users

if TYPE_CHECKING:
    from companion.conversation.ports import CompanionState
    from companion.runtime import Runtime

__all__ = ["InProcessClient"]


def _pad(state: CompanionState) -> dict[str, float]:
    return dict(state.pad.to_dict())


def _memory_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a memory id; copy one from /memories") from None


def _models(runtime: Runtime) -> list[str]:
    """``provider:model`` of the chat chain, in order of preference."""
    describe = getattr(runtime.models, "describe", None)
    if describe is None:
        return []
    chain = describe().get("chat", {})
    return [f"{p['id']}:{p['model']}" for p in chain.get("providers", [])]


def incident_item(row: Any) -> IncidentItem:
    """An incident row as a channel shows it."""
    return IncidentItem(
        id=int(row.id),
        user_id=str(row.user_id),
        category=str(row.incident_type),
        confidence=float(row.confidence or 0.0),
        action=str(row.action or ""),
        content=str(row.detected_content or ""),
        detected_at=row.detected_at.isoformat() if row.detected_at else "",
    )


def _item(row: Any) -> MemoryItem:
    created = getattr(row, "created_at", None)
    return MemoryItem(
        id=str(row.id),
        content=row.content,
        memory_type=row.memory_type,
        created_at=created.isoformat() if created is not None else None,
    )


class InProcessClient:
    """The engine in this process: calls ``runtime`` services directly."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def _service(self, name: str) -> Any:
        service = getattr(self.runtime, name, None)
        if service is None:
            raise ConfigError(f"runtime.{name}", "the service is not wired into this runtime")
        return service

    async def _ensure(self, user_id: str, username: str | None = None) -> None:
        async with self.runtime.db.transaction() as session:
            await users.ensure_user(session, user_id=user_id, username=username)

    async def turn(self, request: TurnRequest) -> TurnResult:
        """Answer through the one turn pipeline (which runs the security check)."""
        await self._ensure(request.user_id, request.username)
        result: TurnResult = await self._service("conversation").turn(request)
        return result

    async def status(self, user_id: str) -> Status:
        """Mood, emotion and urgent needs (the state is created on first contact)."""
        await self._ensure(user_id)
        state = await self._service("personality").load_state(user_id=user_id)
        return Status(
            user_id=state.user_id,
            name=state.name,
            preset=state.preset,
            emotion=state.emotion,
            pad=_pad(state),
            urgent_needs=list(state.urgent_needs),
        )

    async def setup(self, user_id: str, preset: str) -> Status:
        """Create the user and apply ``preset`` (an unknown preset is ``InvalidInput``)."""
        await self._ensure(user_id)
        await self._service("personality").set_preset(user_id=user_id, preset=preset)
        return await self.status(user_id)

    async def companions(self, user_id: str) -> list[CompanionItem]:
        """The personality domain's list (the first companion is created if new)."""
        from companion.personality.companions import list_companions

        await self._ensure(user_id)
        rows = await list_companions(self._service("personality"), user_id=user_id)
        return [CompanionItem.from_dict(row) for row in rows]

    async def switch_companion(self, user_id: str, companion_id: int) -> CompanionItem:
        """Activate one of the user's companions."""
        from companion.personality.companions import activate_companion

        await self._ensure(user_id)
        row = await activate_companion(
            self._service("personality"), user_id=user_id, companion_id=companion_id
        )
        return CompanionItem.from_dict(row)

    async def memories(
        self, user_id: str, *, query: str | None = None, limit: int = 10
    ) -> list[MemoryItem]:
        """Hybrid search for ``query``; otherwise the newest current memories."""
        memory = self._service("memory")
        if query:
            return [_item(h) for h in await memory.search(user_id=user_id, query=query, k=limit)]
        rows, _ = await memory.list_memories(user_id=user_id, limit=limit)
        return [_item(r) for r in rows]

    async def forget(self, user_id: str, memory_id: str | None) -> int:
        """Forget one memory or all of them (documents and conflicts too)."""
        memory = self._service("memory")
        if memory_id is None:
            counts = await memory.forget_all(user_id=user_id)
            return int(counts.get("memories", 0))
        await memory.forget(user_id=user_id, memory_id=_memory_id(memory_id))
        return 1

    async def personality(self, user_id: str) -> PersonalityView:
        """Big Five, PAD, quirks and style traits."""
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
        """Read or change the settings through the proactive service (it validates)."""
        await self._ensure(user_id)
        service = self._service("proactive")
        if enabled is None and quiet_hours is None and timezone is None:
            view = await service.get_settings(user_id)
        else:
            view = await service.update_settings(
                user_id, enabled=enabled, quiet_hours=quiet_hours, timezone=timezone
            )
        return ProactiveSettings(view.enabled, view.quiet_hours, view.timezone)

    async def reset(self, user_id: str, *, conversation: str | None = None) -> None:
        """Clear short-term context through the pipeline; long-term memory stays."""
        await self._service("conversation").reset(user_id, external_conversation_id=conversation)

    async def export(self, user_id: str) -> dict[str, Any]:
        """Everything stored about the user (the memory domain's export)."""
        data: dict[str, Any] = await self._service("memory").export(user_id=user_id)
        return data

    async def delete_user(self, user_id: str) -> dict[str, int]:
        """Delete the account and everything it owns (``store.accounts``)."""
        from companion.store.accounts import delete_account
        from companion.tools.build import account_folders

        folders = account_folders(self.runtime.settings, user_id)
        return await delete_account(
            self.runtime.db, self.runtime.kv, user_id=user_id, folders=folders
        )

    async def remember_channel(self, user_id: str, info: ChannelInfo) -> None:
        """Merge ``info`` into ``users.channels`` (other channels are kept)."""
        await self._ensure(user_id)
        async with self.runtime.db.transaction() as session:
            user = await users.get_user(session, user_id=user_id)
            channels = {**(user.channels or {}), info.channel: info.as_dict()}
            await users.update_user(session, user_id=user_id, changes={"channels": channels})

    async def last_channel(self, user_id: str, channel: str) -> ChannelInfo | None:
        """Read ``users.channels[channel]``."""
        async with self.runtime.db.session() as session:
            user = await users.get_user(session, user_id=user_id)
            data = (user.channels or {}).get(channel)
        return ChannelInfo.from_dict(channel, data) if isinstance(data, dict) else None

    async def system_status(self) -> SystemStatus:
        """Counts from the database and the chat chain from the runtime's models."""
        async with self.runtime.db.session() as session:
            counts = await stats.system_counts(session)
        return SystemStatus(
            users=int(counts["users"] or 0),
            turns_last_5_minutes=int(counts["interactions_5m"] or 0),
            turns_last_24h=int(counts["interactions_24h"] or 0),
            errors_last_24h=int(counts["errors_24h"] or 0),
            models=_models(self.runtime),
        )

    async def incidents(self, *, limit: int = 10) -> list[IncidentItem]:
        """The security service's listing, newest first."""
        rows = await self._service("security").list_incidents(limit=limit)
        return [incident_item(row) for row in rows]

    async def aclose(self) -> None:
        """Nothing to release: the runtime belongs to its owner."""
