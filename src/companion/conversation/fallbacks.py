"""Stand-ins used only while a domain service is not configured in this process.

They keep the pipeline answering (a neutral companion, no memories, every message
allowed) and each logs once that it is in use, so a missing wiring is visible.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from companion.conversation.ports import (
    CompanionState,
    ResetMark,
    RetrievedMemory,
    SecurityVerdict,
    ShortTermTurn,
    TurnRecord,
)
from companion.store import driver
from companion.store.kv import LockHold
from companion.types import PAD

__all__ = ["NeutralPersonality", "NoMemory", "NoSecurity"]

log = logging.getLogger(__name__)

_BIG_FIVE = {
    "openness": 0.7,
    "conscientiousness": 0.5,
    "extraversion": 0.6,
    "agreeableness": 0.75,
    "neuroticism": 0.3,
}


class NeutralPersonality:
    """A fixed, friendly persona with a constant mood."""

    def __init__(self, name: str = "Companion", preset: str = "curious_companion") -> None:
        self._name = name
        self._preset = preset
        log.warning("personality service not configured: using a neutral persona")

    async def load_state(
        self, *, user_id: str, now: datetime | None = None, session: object = None
    ) -> CompanionState:
        """The same calm state for everyone."""
        baseline = PAD(0.3, 0.1, 0.1)
        return CompanionState(
            user_id=user_id,
            name=self._name,
            preset=self._preset,
            big_five=dict(_BIG_FIVE),
            pad=baseline,
            baseline=baseline,
            emotion="content",
        )

    async def stored_state(
        self, *, user_id: str, conn: object, now: datetime | None = None
    ) -> CompanionState | None:
        """The same calm state (nothing to store)."""
        return await self.load_state(user_id=user_id, now=now)

    async def stored_state_alongside(
        self,
        *,
        user_id: str,
        conn: AsyncSession | AsyncConnection,
        lead: Select[Any],
        params: dict[str, Any],
        columns: int,
        now: datetime | None = None,
    ) -> tuple[Sequence[Any], CompanionState | None] | None:
        """The caller's ``lead`` alone, and the same calm state."""
        row = await driver.fetchrow(conn, driver.once(lead), params)
        if row is None:
            return None
        return tuple(row[:columns]), await self.load_state(user_id=user_id, now=now)

    def appraise(self, state: CompanionState, *, text: str, threat: bool = False) -> PAD:
        """Mood does not move."""
        return state.pad

    async def after_turn(self, record: TurnRecord, *, session: object = None) -> None:
        """Nothing to learn."""


class NoMemory:
    """Remembers nothing."""

    def __init__(self) -> None:
        log.warning("memory service not configured: turns use no memories")

    async def retrieve(self, *, user_id: str, query: str, k: int = 6) -> list[RetrievedMemory]:
        """No memories."""
        return []

    async def short_term(
        self, *, user_id: str, conversation_id: uuid.UUID, reset: ResetMark | None = None
    ) -> list[ShortTermTurn]:
        """No history."""
        return []

    async def note_turn(self, record: TurnRecord, *, release: LockHold | None = None) -> None:
        """Keep nothing (the lock's block releases it)."""

    def carried(self, lines: int) -> int:
        """No history to carry."""
        return 0

    async def remember_turn(self, record: TurnRecord) -> None:
        """Forget it."""

    async def remember_turns(self, records: Sequence[TurnRecord]) -> list[Exception | None]:
        """Forget them."""
        return [None] * len(records)


class NoSecurity:
    """Allows every message."""

    def __init__(self) -> None:
        log.warning("security service not configured: messages are not screened")

    async def check(
        self, *, user_id: str, text: str, standing: tuple[int, str] | None = None
    ) -> SecurityVerdict:
        """Always allowed."""
        return SecurityVerdict(flagged=False, category=None, confidence=0.0, layer="none")
