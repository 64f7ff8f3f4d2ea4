"""The turn pipeline: the one way every channel turns a user message into a reply.

rate-limit → serialise per user → security → state → memories + recent turns →
prompt within a token budget → streamed generation → one transaction → background
learning → result. Authentication is the adapter's job (API, bots, CLI).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from companion.conversation import metrics, sessions
from companion.conversation.background import BackgroundTasks
from companion.conversation.budget import TokenBudget
from companion.conversation.generation import Generation, generate
from companion.conversation.limits import Limit, RateLimiter
from companion.conversation.persist import PersistedTurn, TurnFacts, persist_turn
from companion.conversation.ports import (
    CompanionState,
    MemoryPort,
    PersonalityPort,
    RetrievedMemory,
    SecurityPort,
    SecurityVerdict,
    ShortTermTurn,
    ToolPort,
    TurnRecord,
)
from companion.conversation.prompt import build_prompt
from companion.conversation.replies import blocked_reply
from companion.conversation.types import SessionInfo, TurnEvent, TurnRequest, TurnResult
from companion.errors import InvalidInput
from companion.llm.base import RoleModel
from companion.personality.core import emotion_label
from companion.store.database import Database
from companion.store.kv import KeyValueStore
from companion.store.repositories import conversations, users
from companion.types import PAD

__all__ = ["ConversationService", "PipelineConfig"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineConfig:
    """Knobs of the pipeline (built from settings by ``build_conversation``)."""

    max_message_chars: int = 4000
    budget: TokenBudget = field(default_factory=TokenBudget)
    memory_k: int = 6
    temperature: float = 0.8
    #: A turn holds its user's lock at most this long (a crashed process frees it).
    lock_timeout: float = 120.0
    #: A second turn of the same user waits this long before ``Busy``.
    lock_wait: float = 2.0
    limits: tuple[Limit, ...] = ()


@dataclass
class _Context:
    """What a turn knows before it generates."""

    conversation_id: uuid.UUID
    new_conversation: bool
    verdict: SecurityVerdict
    state: CompanionState
    memories: list[RetrievedMemory]
    history: list[ShortTermTurn]


class ConversationService:
    """Answers turns; owns the per-user lock and the background work after each turn."""

    def __init__(
        self,
        *,
        db: Database,
        kv: KeyValueStore,
        chat: RoleModel | None,
        memory: MemoryPort,
        personality: PersonalityPort,
        security: SecurityPort,
        config: PipelineConfig | None = None,
        tools: ToolPort | None = None,
    ) -> None:
        self.db = db
        self.kv = kv
        self.chat = chat
        self.memory = memory
        self.personality = personality
        self.security = security
        self.config = config or PipelineConfig()
        self.tools = tools
        self._limiter = RateLimiter(kv)
        self._background = BackgroundTasks()
        self._active = metrics.ActiveUsers()

    # -- public API ---------------------------------------------------------------

    async def turn(self, request: TurnRequest) -> TurnResult:
        """Answer ``request`` and return the whole result (check ``result.error``)."""
        result: TurnResult | None = None
        async for event in self.stream(request):
            if event.kind == "done":
                result = event.result
        assert result is not None  # stream always ends with "done"
        return result

    async def stream(self, request: TurnRequest) -> AsyncIterator[TurnEvent]:
        """Answer ``request`` as ``delta`` events, then one ``done`` with the result.

        Raises (before any event): ``InvalidInput``, ``RateLimited``, ``Busy``,
        ``NotFound`` (a conversation id that is not the user's), ``StoreError``.
        """
        text = self._validate(request)
        if self.config.limits:
            await self._limiter.hit(f"user:{request.user_id}", self.config.limits)
        lock = self.kv.lock(
            f"user:{request.user_id}:turn",
            timeout=self.config.lock_timeout,
            wait=self.config.lock_wait,
        )
        async with lock:
            async for event in self._locked_turn(request, text):
                yield event

    async def session(self, user_id: str) -> SessionInfo:
        """The user's current session (latest conversation, mood)."""
        return await sessions.session_info(self.db, self.personality, user_id=user_id)

    async def reset(
        self,
        user_id: str,
        conversation_id: uuid.UUID | None = None,
        *,
        external_conversation_id: str | None = None,
    ) -> uuid.UUID | None:
        """Clear a conversation's short-term context (default: the latest); long-term stays."""
        return await sessions.reset_short_term(
            self.db,
            self.memory,
            user_id=user_id,
            conversation_id=conversation_id,
            external_conversation_id=external_conversation_id,
        )

    async def clear_memories(self, user_id: str, conversation_id: uuid.UUID | None) -> int:
        """Delete what was learnt in the conversation (DEF-14); returns the count."""
        return await sessions.clear_memories(
            self.db, self.memory, user_id=user_id, conversation_id=conversation_id
        )

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for background work of finished turns (tests, shutdown)."""
        await self._background.drain(timeout)

    async def aclose(self) -> None:
        """Give background work a moment to finish, then cancel the rest."""
        await self._background.drain(timeout=10.0)
        await self._background.cancel()

    # -- steps ----------------------------------------------------------------------

    def _validate(self, request: TurnRequest) -> str:
        text = request.text.strip()
        if not text:
            raise InvalidInput("message: must not be empty")
        if "\x00" in text:
            raise InvalidInput("message: must not contain NUL (\\u0000) characters")
        if len(request.text) > self.config.max_message_chars:
            raise InvalidInput(
                f"message: {len(request.text)} characters is over the limit of "
                f"{self.config.max_message_chars}"
            )
        return text

    async def _locked_turn(self, request: TurnRequest, text: str) -> AsyncIterator[TurnEvent]:
        started = time.perf_counter()
        ctx = await self._prepare(request, text)
        generation = Generation()
        if ctx.verdict.blocks_generation:
            generation.reply = ctx.verdict.reply or blocked_reply()
        else:
            prompt = build_prompt(
                ctx.state,
                message=text,
                memories=ctx.memories,
                history=ctx.history,
                budget=self.config.budget,
            )
            generation.memory_ids = prompt.memory_ids
            messages = prompt.messages
            if self.tools is not None:  # optional tool phase (companion.tools)
                messages = await self.tools.augment(request, messages)
            async for piece in generate(
                self.chat,
                messages,
                state=ctx.state,
                user_id=request.user_id,
                max_tokens=self.config.budget.reply,
                temperature=self.config.temperature,
                out=generation,
            ):
                yield TurnEvent(kind="delta", text=piece)
        result = await self._finish(request, text, ctx, generation, started)
        yield TurnEvent(kind="done", result=result)

    async def _prepare(self, request: TurnRequest, text: str) -> _Context:
        conversation_id, new = await self._resolve_conversation(request)
        verdict = await self.security.check(user_id=request.user_id, text=text)
        if verdict.flagged:
            metrics.INCIDENTS.labels(verdict.category or "unknown").inc()
        state = await self.personality.load_state(user_id=request.user_id)
        memories: list[RetrievedMemory] = []
        history: list[ShortTermTurn] = []
        if not verdict.blocks_generation:
            memories, history = await asyncio.gather(
                self._retrieve(request.user_id, text),
                self._short_term(request.user_id, conversation_id, new=new),
            )
        return _Context(conversation_id, new, verdict, state, memories, history)

    async def _resolve_conversation(self, request: TurnRequest) -> tuple[uuid.UUID, bool]:
        """The turn's conversation: validated now, created with the turn if new."""
        async with self.db.transaction() as session:
            await users.ensure_user(session, user_id=request.user_id, username=request.username)
            if request.conversation_id is not None:
                row = await conversations.get_conversation(
                    session, user_id=request.user_id, conversation_id=request.conversation_id
                )
                return row.id, False
            if request.new_conversation:
                return uuid.uuid4(), True
            found = await conversations.find_conversation(
                session,
                user_id=request.user_id,
                external_id=request.external_conversation_id,
                channel=request.channel,
            )
        if found is not None:
            return found.id, False
        return uuid.uuid4(), True

    async def _retrieve(self, user_id: str, text: str) -> list[RetrievedMemory]:
        try:
            found = await self.memory.retrieve(user_id=user_id, query=text, k=self.config.memory_k)
        except Exception:  # a memory outage costs context, never the reply
            log.exception("memory retrieval failed; answering without memories")
            metrics.MEMORY_OPS.labels("retrieve", "error").inc()
            return []
        metrics.MEMORY_OPS.labels("retrieve", "ok").inc()
        return found

    async def _short_term(
        self, user_id: str, conversation_id: uuid.UUID, *, new: bool
    ) -> list[ShortTermTurn]:
        if new:
            return []
        try:
            turns = await self.memory.short_term(user_id=user_id, conversation_id=conversation_id)
        except Exception:
            log.exception("short-term buffer unavailable; answering without recent turns")
            metrics.MEMORY_OPS.labels("short_term", "error").inc()
            return []
        metrics.MEMORY_OPS.labels("short_term", "ok").inc()
        return turns

    async def _finish(
        self,
        request: TurnRequest,
        text: str,
        ctx: _Context,
        generation: Generation,
        started: float,
    ) -> TurnResult:
        pad_after = self.personality.appraise(ctx.state, text=text, threat=ctx.verdict.flagged)
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        facts = self._facts(request, text, ctx, generation, pad_after, elapsed_ms)
        stored = await persist_turn(self.db, facts)
        self._observe(request, generation, started)
        if generation.error is None:
            record = self._record(request, text, ctx, generation, stored, pad_after)
            self._background.spawn("memory.remember_turn", self._remember(record))
            self._background.spawn("personality.after_turn", self.personality.after_turn(record))
        return self._result(ctx, generation, stored.interaction_id, pad_after, elapsed_ms)

    async def _remember(self, record: TurnRecord) -> None:
        try:
            await self.memory.remember_turn(record)
        except Exception:
            metrics.MEMORY_OPS.labels("remember", "error").inc()
            raise
        metrics.MEMORY_OPS.labels("remember", "ok").inc()

    def _facts(
        self,
        request: TurnRequest,
        text: str,
        ctx: _Context,
        generation: Generation,
        pad_after: PAD,
        elapsed_ms: int,
    ) -> TurnFacts:
        completion = generation.completion
        return TurnFacts(
            user_id=request.user_id,
            conversation_id=ctx.conversation_id,
            new_conversation=ctx.new_conversation,
            channel=request.channel,
            external_conversation_id=request.external_conversation_id,
            username=request.username,
            message_external_id=request.message_external_id,
            user_text=text,
            reply_text=generation.reply,
            pad_before=ctx.state.pad,
            pad_after=pad_after,
            emotion_before=ctx.state.emotion,
            emotion_after=emotion_label(pad_after),
            verdict=ctx.verdict,
            snapshot_id=ctx.state.snapshot_id,
            memory_ids=generation.memory_ids,
            latency_ms=elapsed_ms,
            prompt_tokens=completion.usage.prompt_tokens if completion else 0,
            completion_tokens=completion.usage.completion_tokens if completion else 0,
            model=completion.model if completion else None,
            provider=completion.provider if completion else None,
            fallback_used=completion.fallback_used if completion else False,
            error=generation.error,
        )

    def _record(
        self,
        request: TurnRequest,
        text: str,
        ctx: _Context,
        generation: Generation,
        stored: PersistedTurn,
        pad_after: PAD,
    ) -> TurnRecord:
        return TurnRecord(
            user_id=request.user_id,
            conversation_id=ctx.conversation_id,
            interaction_id=stored.interaction_id,
            user_message_id=stored.user_message_id,
            reply_message_id=stored.reply_message_id,
            user_text=text,
            reply_text=generation.reply,
            created_at=datetime.now(UTC),
            pad_before=ctx.state.pad,
            pad_after=pad_after,
            emotion=emotion_label(pad_after),
            flagged=ctx.verdict.flagged,
            channel=request.channel,
            speaker=request.username,
            security_category=ctx.verdict.category,
        )

    def _result(
        self,
        ctx: _Context,
        generation: Generation,
        interaction_id: int,
        pad_after: PAD,
        elapsed_ms: int,
    ) -> TurnResult:
        completion = generation.completion
        return TurnResult(
            reply=generation.reply,
            conversation_id=ctx.conversation_id,
            interaction_id=interaction_id,
            emotion=emotion_label(pad_after),
            pad_after=pad_after.to_dict(),
            memories_used=list(generation.memory_ids),
            processing_time_ms=elapsed_ms,
            model=completion.model if completion else "",
            provider=completion.provider if completion else "",
            fallback_used=completion.fallback_used if completion else False,
            flagged=ctx.verdict.flagged,
            security_action=ctx.verdict.action,
            error=generation.error,
            model_latency_ms=generation.model_ms,
            prompt_tokens=completion.usage.prompt_tokens if completion else 0,
            completion_tokens=completion.usage.completion_tokens if completion else 0,
        )

    def _observe(self, request: TurnRequest, generation: Generation, started: float) -> None:
        total = time.perf_counter() - started
        outcome = "error" if generation.error else "ok"
        metrics.TURNS.labels(request.channel, outcome).inc()
        metrics.TURN_OVERHEAD.labels(request.channel).observe(
            max(0.0, total - generation.model_ms / 1000)
        )
        self._active.saw(request.user_id)
