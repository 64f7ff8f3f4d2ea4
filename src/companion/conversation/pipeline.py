"""The turn pipeline: the one way every channel turns a user message into a reply.

rate-limit → serialise per user → security → state → store the user's message (and
the turn's queued work) → memories + recent turns → prompt within a token budget →
streamed generation → store the reply, commit the mood → result; memory work runs
from the durable queue. Authentication is the adapter's job (API, bots, CLI).

A turn runs in its own task, apart from whoever reads its events: a client that goes
away (a closed tab, a dropped stream) does not cancel it. With ``on_disconnect =
"finish"`` (the default) the reply is generated to the end and stored complete; with
``"stop"`` generation stops and the partial reply is stored marked ``interrupted``.
Either way the turn is stored and its memory work is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from companion.conversation import metrics, sessions
from companion.conversation.background import BackgroundTasks
from companion.conversation.budget import HISTORY_BLOCK, TokenBudget
from companion.conversation.generation import Generation, generate
from companion.conversation.learning import TurnLearner
from companion.conversation.length import CHAT_SENTENCES, asks_for_more
from companion.conversation.limits import Limit, RateLimiter
from companion.conversation.persist import (
    LEARN,
    PersistedTurn,
    StartedTurn,
    TurnFacts,
    begin_turn,
    finish_turn,
)
from companion.conversation.ports import (
    CompanionState,
    MemoryPort,
    PersonalityPort,
    ResetMark,
    RetrievedMemory,
    SecurityPort,
    SecurityVerdict,
    ShortTermTurn,
    ToolPort,
    TurnRecord,
)
from companion.conversation.profile import (
    COMPACT_REPLY_TOKENS,
    PromptProfile,
    use_compact,
)
from companion.conversation.prompt import build_prompt
from companion.conversation.records import turn_facts, turn_record, turn_result
from companion.conversation.replies import blocked_reply
from companion.conversation.steady import ShownMemories, kept_past_next_cut, window_block
from companion.conversation.types import SessionInfo, TurnEvent, TurnRequest, TurnResult
from companion.errors import Busy, CompanionError, InvalidInput, NotFound
from companion.llm.base import RoleModel
from companion.ops.loop_watch import Reading, process_watch
from companion.store.database import Database
from companion.store.kv import KeyValueStore, LockHold
from companion.store.queue import WorkQueue
from companion.store.repositories import conversations, turn_start, users
from companion.types import PAD

__all__ = ["ConversationService", "PipelineConfig"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")


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
    #: When the client goes away mid-reply: generate to the end, or stop and keep
    #: the partial reply marked ``interrupted``.
    on_disconnect: Literal["finish", "stop"] = "finish"
    #: The prompt layout: compact for small models (``auto``: when the model is not capable).
    prompt_profile: PromptProfile = "auto"


@dataclass
class _Context:
    """What a turn knows before it generates."""

    conversation_id: uuid.UUID
    new_conversation: bool
    verdict: SecurityVerdict
    state: CompanionState
    started: StartedTurn
    memories: list[RetrievedMemory]
    history: list[ShortTermTurn]
    #: Milliseconds per step so far (``TurnResult.stages``).
    stages: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Resolved:
    """The turn's conversation and what its reads already told about the user."""

    conversation_id: uuid.UUID
    new: bool
    #: ``(security_level, status)`` of the user.
    standing: tuple[int, str]
    #: The conversation's short-term reset mark (``None`` for a new conversation).
    reset: ResetMark | None


def _resolved(
    request: TurnRequest, standing: tuple[int, str], ref: conversations.ConversationRef | None
) -> _Resolved:
    """The turn's conversation from what was found of it (``ref``: by the request's id,
    else by its external id or channel; ``None``: nothing found or nothing looked for)."""
    if request.conversation_id is not None:
        if ref is None:
            raise NotFound(f"conversation {request.conversation_id} not found")
        return _Resolved(ref.id, False, standing, ResetMark(ref.short_term_reset_at))
    if request.new_conversation:
        if ref is not None:  # only looked for by an external id
            raise InvalidInput(
                "external_conversation_id already names one of your conversations: "
                "leave out new_conversation to continue it, or choose another id"
            )
        return _Resolved(uuid.uuid4(), True, standing, None)
    if ref is not None:
        return _Resolved(ref.id, False, standing, ResetMark(ref.short_term_reset_at))
    return _Resolved(uuid.uuid4(), True, standing, None)


class _Reader:
    """Whether anyone still reads a turn's events."""

    gone = False


#: What the turn task hands its reader: an event, an error to raise, or the end.
_Item = TurnEvent | BaseException | None


class ConversationService:
    """Answers turns; owns the per-user lock and the queued work after each turn."""

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
        queue: WorkQueue | None = None,
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
        #: The memories each conversation's last turn showed (the compact layout keeps
        #: them first while they are found again: ``conversation.steady``).
        self._shown = ShownMemories()
        self._turns = BackgroundTasks()
        self._active = metrics.ActiveUsers()
        #: Post-turn work (memory); ``start_workers`` runs it in this process.
        self.queue = queue or WorkQueue(db)
        learner = TurnLearner(db, memory)
        self.queue.register(LEARN, learner, batch=learner.batch)
        #: Turns running in this process; the queue's workers give way to them.
        self.in_flight = 0
        self.queue.give_way(lambda: self.in_flight > 0)

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
        if self.config.limits and not request.is_admin:  # admins are never rate-limited
            await self._limiter.hit(f"user:{request.user_id}", self.config.limits)
        items: asyncio.Queue[_Item] = asyncio.Queue()
        reader = _Reader()
        self._turns.spawn("turn", self._run(request, text, items, reader))
        try:
            while (item := await items.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            reader.gone = True  # early exit: the turn goes on (see on_disconnect)

    async def _run(
        self, request: TurnRequest, text: str, items: asyncio.Queue[_Item], reader: _Reader
    ) -> None:
        """The turn task: holds the user's lock and feeds ``items`` until the end."""
        self.in_flight += 1
        try:
            lock = self.kv.lock(
                f"user:{request.user_id}:turn",
                timeout=self.config.lock_timeout,
                wait=self.config.lock_wait,
            )
            asked = time.perf_counter()
            async with lock as hold:
                waited = (time.perf_counter() - asked) * 1000
                async for event in self._locked_turn(request, text, reader, hold, waited):
                    items.put_nowait(event)
        except asyncio.CancelledError:  # shutdown; the turn was stored as interrupted
            items.put_nowait(Busy("the server is shutting down; the turn was stored"))
            raise
        except Exception as exc:
            items.put_nowait(exc)
            if reader.gone and not isinstance(exc, CompanionError):
                log.exception("a turn failed after its client left")
        finally:
            items.put_nowait(None)
            self.in_flight -= 1
            if not self.in_flight:  # the memory work waits for a quiet moment (store.queue)
                self.queue.wake()

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
        """Delete what was learnt in the conversation; returns the count.

        Scope: DECISIONS.md#memory-clear-scope.
        """
        return await sessions.clear_memories(
            self.db, self.memory, user_id=user_id, conversation_id=conversation_id
        )

    def start_workers(self) -> None:
        """Run the queue's workers in this process (``serve`` and ``worker``)."""
        self.queue.start()

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for running turns, then do the queued work that is due (tests, tools)."""
        await self._turns.drain(timeout)
        await self.queue.run_until_idle()

    async def aclose(self) -> None:
        """Let running turns finish (a cut-off one is stored interrupted); stop workers."""
        await self._turns.drain(timeout=10.0)
        await self._turns.cancel()
        await self.queue.stop(timeout=10.0)

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

    async def _locked_turn(
        self, request: TurnRequest, text: str, reader: _Reader, hold: LockHold, lock_ms: float = 0.0
    ) -> AsyncIterator[TurnEvent]:
        started = time.perf_counter()
        # What else the process did during the turn: the loop's lateness, collections,
        # memory work running beside it (``TurnResult.stages``).
        watched = process_watch().reading()
        busy = self.queue.items_running
        ctx = await self._prepare(request, text)
        ctx.stages.update(lock_ms=round(lock_ms, 1), memory_work=busy)
        generation = Generation()
        generating = time.perf_counter()
        try:
            if ctx.verdict.blocks_generation:
                generation.reply = ctx.verdict.reply or blocked_reply()
            else:
                pieces = self._generate(request, text, ctx, generation)
                try:
                    async for piece in pieces:
                        yield TurnEvent(kind="delta", text=piece)
                        if reader.gone and self.config.on_disconnect == "stop":
                            log.info(
                                "client left; reply stopped", extra={"user_id": request.user_id}
                            )
                            generation.interrupt()
                            break
                finally:
                    await pieces.aclose()  # type: ignore[attr-defined]  # ends the model's stream
        except asyncio.CancelledError:  # shutdown: keep what was said, then stop
            generation.interrupt()
            await self._finish(request, text, ctx, generation, started, hold)
            raise
        _stages_after(ctx.stages, generation, generating, watched)
        result = await self._finish(request, text, ctx, generation, started, hold)
        yield TurnEvent(kind="done", result=result)

    async def _generate(
        self, request: TurnRequest, text: str, ctx: _Context, generation: Generation
    ) -> AsyncIterator[str]:
        compact = self._compact()
        # The budget cuts the history where the window drops it: their moves agree.
        block = window_block(self.memory.carried) or HISTORY_BLOCK
        prompt = build_prompt(
            ctx.state,
            message=text,
            memories=ctx.memories,
            history=ctx.history,
            budget=self.config.budget,
            compact=compact,
            shown_before=self._shown.get(ctx.conversation_id),
            history_block=block,
        )
        self._shown.put(ctx.conversation_id, prompt.memory_ids)
        generation.memory_ids = prompt.memory_ids
        messages = prompt.messages
        # What the next turn starts with: the persona and the history still in the window.
        shown = prompt.history_turns
        carried = min(shown, self.memory.carried(len(ctx.history)))
        leaving = shown - carried
        next_prefix = [messages[0], *messages[1 + leaving : 1 + shown]]
        # And what the turn after the history's first line next moves (the window's drop
        # or the budget's cut) starts with, read ahead a turn at a time so that turn does
        # not read its whole history anew.
        kept = kept_past_next_cut(len(ctx.history), shown, block)
        shifted_prefix = (
            [messages[0], *messages[1 + shown - kept : 1 + shown]]
            if leaving == 0 and kept is not None
            else None
        )
        if self.tools is not None:  # optional tool phase (companion.tools)
            # A state read from the database carries the user's timezone; a stand-in's does not.
            zone = ctx.state.timezone if ctx.state.companion_id is not None else None
            messages = await self.tools.augment(request, messages, timezone=zone)
        async for piece in generate(
            self.chat,
            messages,
            state=ctx.state,
            user_id=request.user_id,
            max_tokens=min(self.config.budget.reply, COMPACT_REPLY_TOKENS)
            if compact
            else self.config.budget.reply,
            temperature=self.config.temperature,
            out=generation,
            # Persona and history: the next turn starts with them (see conversation.prompt).
            cache_prefix=max(0, len(messages) - 2),
            next_prefix=next_prefix,
            next_context_start=prompt.context_start,
            shifted_prefix=shifted_prefix,
            # A small model rambles past "one to four sentences"; hold it to that
            # unless the person asked for a story, a list or an explanation.
            max_sentences=CHAT_SENTENCES if compact and not asks_for_more(text) else None,
        ):
            yield piece

    def _compact(self) -> bool:
        """Whether turns use the small-model layout (``conversation.profile``)."""
        return self.chat is not None and use_compact(
            self.config.prompt_profile, capable=bool(getattr(self.chat, "capable", True))
        )

    async def _prepare(self, request: TurnRequest, text: str) -> _Context:
        """Everything the turn needs before the model call.

        One read transaction gives the user, the conversation and the companion's
        state. After it, the memory reads (retrieval with its query embedding, the
        short-term buffer) need only the message and the conversation, so they run
        beside the security screen and the turn's first write instead of after them; a
        blocked turn discards what they found.
        Each step's time is logged ("turn prepared", milliseconds).
        """
        clock = time.perf_counter
        started = clock()
        stages: dict[str, float] = {}

        async def timed(name: str, step: Awaitable[_T]) -> _T:
            begun = clock()
            try:
                return await step
            finally:
                stages[name] = round((clock() - begun) * 1000, 1)

        found, state = await timed("read_ms", self._read(request))
        conversation_id, new = found.conversation_id, found.new
        reads = asyncio.gather(
            timed("retrieval_ms", self._retrieve(request.user_id, text)),
            timed(
                "short_term_ms",
                self._short_term(request.user_id, conversation_id, new=new, reset=found.reset),
            ),
        )
        try:
            verdict = await timed(
                "security_ms",
                self.security.check(user_id=request.user_id, text=text, standing=found.standing),
            )
            if verdict.flagged:
                metrics.INCIDENTS.labels(verdict.category or "unknown").inc()
            facts = turn_facts(
                request, text, conversation_id, new, verdict, state, Generation(), state.pad, 0
            )
            turn = await timed(
                "begin_turn_ms", begin_turn(self.db, facts, recover_after=self.config.lock_timeout)
            )
        except BaseException:
            reads.cancel()
            with contextlib.suppress(BaseException):
                await reads  # both steps answer outages with nothing; this ends them
            raise
        memories, history = await reads  # each returns [] on an outage, never raises
        if verdict.blocks_generation:
            memories, history = [], []
        stages["total_ms"] = round((clock() - started) * 1000, 1)
        log.info("turn prepared", extra={"user_id": request.user_id, **stages})
        return _Context(conversation_id, new, verdict, state, turn, memories, history, stages)

    async def _read(self, request: TurnRequest) -> tuple[_Resolved, CompanionState]:
        """The turn's reads: the user, the conversation, the companion's state.

        For a known user, ONE statement in autocommit (``turn_start`` with the persona
        beside it): one round trip, no BEGIN and COMMIT, one snapshot, and nothing
        written. A first contact (the user or their companion not stored yet) reads
        again in one transaction that creates them, as concurrent first contacts
        always did.
        """
        lead, params = turn_start.turn_start_read(
            user_id=request.user_id,
            conversation_id=request.conversation_id,
            external_id=request.external_conversation_id,
            channel=request.channel,
            new_conversation=request.new_conversation,
        )
        async with self.db.autocommit() as conn:
            read = await self.personality.stored_state_alongside(
                user_id=request.user_id,
                conn=conn,
                lead=lead,
                params=params,
                columns=turn_start.COLUMNS,
            )
        if read is not None:
            start = turn_start.turn_start(read[0])
            found = _resolved(request, start.standing, start.conversation)
            if read[1] is not None:
                return found, read[1]
        async with self.db.transaction() as session:
            standing = await users.ensure_standing(
                session, user_id=request.user_id, username=request.username
            )
            found = await self._resolve_conversation(session, request, standing)
            state = await self.personality.load_state(user_id=request.user_id, session=session)
        return found, state

    async def _resolve_conversation(
        self,
        session: AsyncSession | AsyncConnection,
        request: TurnRequest,
        standing: tuple[int, str],
    ) -> _Resolved:
        """The turn's conversation: validated now, created with the turn if new.

        Returned with the user's ``standing`` (read by the caller) and the
        conversation's short-term reset mark, so the security check and the short-term
        buffer do not read them again.
        """
        ref = None
        if request.conversation_id is not None:
            ref = await conversations.conversation_ref(
                session, user_id=request.user_id, conversation_id=request.conversation_id
            )
        elif not request.new_conversation or request.external_conversation_id is not None:
            ref = await conversations.find_conversation_ref(
                session,
                user_id=request.user_id,
                external_id=request.external_conversation_id,
                channel=None if request.new_conversation else request.channel,
            )
        return _resolved(request, standing, ref)

    async def _retrieve(self, user_id: str, text: str) -> list[RetrievedMemory]:
        try:
            # The compact layout shows only the best few that the recent turns do not
            # already say (``conversation.prompt``), so it fetches as many to choose from.
            found = await self.memory.retrieve(user_id=user_id, query=text, k=self.config.memory_k)
        except Exception:  # a memory outage costs context, never the reply
            log.exception("memory retrieval failed; answering without memories")
            metrics.MEMORY_OPS.labels("retrieve", "error").inc()
            return []
        metrics.MEMORY_OPS.labels("retrieve", "ok").inc()
        return found

    async def _short_term(
        self, user_id: str, conversation_id: uuid.UUID, *, new: bool, reset: ResetMark | None
    ) -> list[ShortTermTurn]:
        if new:
            return []
        try:
            turns = await self.memory.short_term(
                user_id=user_id, conversation_id=conversation_id, reset=reset
            )
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
        hold: LockHold,
    ) -> TurnResult:
        """Store the reply; commit the mood (read-your-writes) before the result exists.

        The short-term buffer's append is the last write under the user's lock and
        gives it back in the same round trip (``hold``); nothing after it touches what
        the lock guards.
        """
        pad_after = self.personality.appraise(ctx.state, text=text, threat=ctx.verdict.flagged)
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        facts = turn_facts(
            request, text, ctx.conversation_id, ctx.new_conversation, ctx.verdict, ctx.state,
            generation, pad_after, elapsed_ms,
        )  # fmt: skip
        status = "interrupted" if generation.interrupted else "complete"
        stored, record = await self._store(request, text, ctx, generation, facts, status, pad_after)
        self.queue.wake()
        self._observe(request, generation, started)
        await self._note(record, hold)
        return turn_result(
            ctx.conversation_id, ctx.verdict, generation,
            stored.interaction_id, pad_after, elapsed_ms, ctx.stages,
        )  # fmt: skip

    async def _store(
        self,
        request: TurnRequest,
        text: str,
        ctx: _Context,
        generation: Generation,
        facts: TurnFacts,
        status: str,
        pad_after: PAD,
    ) -> tuple[PersistedTurn, TurnRecord]:
        """The reply and the new mood, needs and quirk observations in ONE transaction,
        committed under the user's lock before the result exists (read-your-writes).

        A failing mood update must not lose the turn: its transaction is rolled back,
        the failure logged, and the reply stored alone.
        """

        def record(stored: PersistedTurn) -> TurnRecord:
            return turn_record(
                request, text, ctx.conversation_id, ctx.verdict, ctx.state,
                generation, stored, pad_after,
            )  # fmt: skip

        in_mood = False
        try:
            async with self.db.transaction() as session:
                stored = await finish_turn(session, facts, ctx.started, status=status)
                done = record(stored)
                if generation.error is None:
                    in_mood = True
                    await self.personality.after_turn(done, session=session)
            return stored, done
        except Exception:
            if not in_mood:
                raise
            log.exception("updating the mood failed", extra={"user_id": request.user_id})
        async with self.db.transaction() as session:
            stored = await finish_turn(session, facts, ctx.started, status=status)
        return stored, record(stored)

    async def _note(self, record: TurnRecord, hold: LockHold) -> None:
        """Add the turn to the short-term buffer now, so the next turn sees it."""
        try:
            await self.memory.note_turn(record, release=hold)
        except Exception:  # the buffer falls back to the stored messages
            log.warning("short-term buffer not updated", exc_info=True)
            metrics.MEMORY_OPS.labels("short_term", "error").inc()

    def _observe(self, request: TurnRequest, generation: Generation, started: float) -> None:
        total = time.perf_counter() - started
        outcome = "error" if generation.error else "ok"
        metrics.TURNS.labels(request.channel, outcome).inc()
        metrics.TURN_OVERHEAD.labels(request.channel).observe(
            max(0.0, total - generation.model_ms / 1000)
        )
        self._active.saw(request.user_id)


def _stages_after(
    stages: dict[str, float], generation: Generation, generating: float, watched: Reading
) -> None:
    """Add the generation's time outside the model (the prompt, the client, the stream)
    and what the process did meanwhile since the turn began (``watched``)."""
    outside = (time.perf_counter() - generating) * 1000 - generation.model_ms
    spent = process_watch().reading().since(watched)
    stages.update(
        reply_ms=round(max(0.0, outside), 1),
        lag_ms=round(spent.lag_ms, 1),
        gc_ms=round(spent.gc_ms, 1),
        full_gc=spent.full_collections,
    )
