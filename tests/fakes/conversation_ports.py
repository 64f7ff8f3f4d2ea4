"""Fakes of the turn pipeline's collaborators, implementing the real Protocols.

``FakeChat`` is a ``RoleModel``; ``FakeMemory``, ``FakePersonality`` and
``FakeSecurity`` implement the ports of ``companion.conversation.ports``. They record
what they were asked, so tests can assert on the pipeline's behaviour.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from companion.conversation.ports import (
    CompanionState,
    ResetMark,
    RetrievedMemory,
    SecurityVerdict,
    ShortTermTurn,
    TurnRecord,
)
from companion.errors import ProviderUnavailable
from companion.llm.base import ChatRequest, Chunk, Completion, Usage
from companion.store import driver
from companion.store.kv import LockHold
from companion.types import PAD

__all__ = ["FakeChat", "FakeMemory", "FakePersonality", "FakeSecurity"]


class FakeChat:
    """A chat ``RoleModel`` answering from a queue (default: a fixed friendly reply)."""

    role = "chat"
    capable = True

    def __init__(self, default: str = "Hello there! How lovely to hear from you.") -> None:
        self.default = default
        self.queue: list[str | Exception] = []
        self.requests: list[ChatRequest] = []
        self.fail = False
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()

    def enqueue(self, *items: str | Exception) -> None:
        """Answer the next calls with these texts (or raise these errors)."""
        self.queue.extend(items)

    async def complete(self, request: ChatRequest, *, user_id: str | None = None) -> Completion:
        """The whole reply."""
        last: Completion | None = None
        async for item in self.stream(request, user_id=user_id):
            if isinstance(item, Completion):
                last = item
        assert last is not None
        return last

    async def stream(
        self, request: ChatRequest, *, user_id: str | None = None
    ) -> AsyncIterator[Chunk | Completion]:
        """Three chunks and the record, or ``ProviderUnavailable``."""
        self.requests.append(request)
        self.started.set()
        item = self.queue.pop(0) if self.queue else self.default
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ProviderUnavailable("every chat provider failed (fake)", provider="fake")
        if isinstance(item, Exception):
            raise item
        words = item.split(" ")
        third = max(1, len(words) // 3)
        pieces = [" ".join(words[:third]), " ".join(words[third:])]
        for index, piece in enumerate(pieces):
            if piece:
                yield Chunk(text=piece if index == 0 else " " + piece)
        yield Completion(
            id=uuid.uuid4().hex,
            role="chat",
            text=item,
            provider="fake",
            model="fake-model",
            latency_ms=1.0,
            usage=Usage(prompt_tokens=42, completion_tokens=len(words)),
        )


class FakeMemory:
    """Returns preset memories; records remembered turns."""

    def __init__(self, memories: list[str] | None = None) -> None:
        self.memories = [
            RetrievedMemory(
                id=f"m{index}",
                content=text,
                memory_type="fact",
                score=1.0 - index * 0.1,
                reason="test",
                created_at=datetime(2026, 1, 1),
            )
            for index, text in enumerate(memories or [])
        ]
        self.remembered: list[TurnRecord] = []
        self.fail_retrieve = False
        self.history: dict[uuid.UUID, list[ShortTermTurn]] = {}

    async def retrieve(self, *, user_id: str, query: str, k: int = 6) -> list[RetrievedMemory]:
        """The preset memories (or an outage)."""
        if self.fail_retrieve:
            raise ConnectionError("vector index down (fake)")
        return self.memories[:k]

    async def short_term(
        self, *, user_id: str, conversation_id: uuid.UUID, reset: ResetMark | None = None
    ) -> list[ShortTermTurn]:
        """Turns remembered for the conversation."""
        return list(self.history.get(conversation_id, []))

    def carried(self, lines: int) -> int:
        """The history only grows."""
        return lines

    async def note_turn(self, record: TurnRecord, *, release: LockHold | None = None) -> None:
        """Extend the short-term history (not with flagged text); the lock's block
        releases the lock."""
        if record.flagged:
            return
        turns = self.history.setdefault(record.conversation_id, [])
        turns += [
            ShortTermTurn("user", record.user_text),
            ShortTermTurn("assistant", record.reply_text),
        ]

    async def remember_turn(self, record: TurnRecord) -> None:
        """Keep the record (the queued work)."""
        await asyncio.sleep(0)
        self.remembered.append(record)

    async def remember_turns(self, records: Sequence[TurnRecord]) -> list[Exception | None]:
        """``remember_turn`` for each (a test may replace it to fail some)."""
        outcomes: list[Exception | None] = []
        for record in records:
            try:
                await self.remember_turn(record)
                outcomes.append(None)
            except Exception as exc:
                outcomes.append(exc)
        return outcomes


class FakePersonality:
    """A fixed persona whose mood brightens a little with every message."""

    def __init__(self) -> None:
        self.after: list[TurnRecord] = []

    async def load_state(
        self, *, user_id: str, now: datetime | None = None, session: object = None
    ) -> CompanionState:
        """A fixed state."""
        return CompanionState(
            user_id=user_id,
            name="Mira",
            preset="curious_companion",
            big_five={"openness": 0.8},
            pad=PAD(0.2, 0.1, 0.0),
            baseline=PAD(0.2, 0.1, 0.0),
            emotion="content",
            urgent_needs=("social",),
            prompt_block="You are Mira, a curious companion.",
        )

    async def stored_state(
        self, *, user_id: str, conn: object, now: datetime | None = None
    ) -> CompanionState | None:
        """The fixed state (always there)."""
        return await self.load_state(user_id=user_id, now=now)

    async def stored_state_alongside(
        self,
        *,
        user_id: str,
        conn: Any,
        lead: Any,
        params: dict[str, Any],
        columns: int,
        now: datetime | None = None,
    ) -> tuple[Sequence[Any], CompanionState | None] | None:
        """The caller's ``lead`` alone, and the fixed state."""
        row = await driver.fetchrow(conn, driver.once(lead), params)
        if row is None:
            return None
        return tuple(row[:columns]), await self.load_state(user_id=user_id, now=now)

    def appraise(self, state: CompanionState, *, text: str, threat: bool = False) -> PAD:
        """Pleasure up by 0.1, down by 0.3 on a threat."""
        delta = -0.3 if threat else 0.1
        return PAD(state.pad.pleasure + delta, state.pad.arousal, state.pad.dominance)

    async def after_turn(self, record: TurnRecord, *, session: object = None) -> None:
        """Keep the record."""
        self.after.append(record)


class FakeSecurity:
    """Blocks messages containing ``block_word``; flags (warns) ``warn_word``."""

    def __init__(self, block_word: str = "IGNORE ALL", warn_word: str = "system prompt") -> None:
        self.block_word = block_word
        self.warn_word = warn_word

    async def check(
        self, *, user_id: str, text: str, standing: tuple[int, str] | None = None
    ) -> SecurityVerdict:
        """A verdict from two trigger phrases."""
        if self.block_word.lower() in text.lower():
            return SecurityVerdict(
                flagged=True,
                category="role_manipulation",
                confidence=0.95,
                layer="pattern",
                action="block",
                reply="I'm going to stay myself, thanks — let's talk about something else.",
            )
        if self.warn_word.lower() in text.lower():
            return SecurityVerdict(
                flagged=True,
                category="system_query",
                confidence=0.75,
                layer="pattern",
                action="warn",
            )
        return SecurityVerdict(flagged=False, category=None, confidence=0.05, layer="pattern")
