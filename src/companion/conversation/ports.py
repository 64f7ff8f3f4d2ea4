"""What the turn pipeline needs from memory, personality and security.

The pipeline (``companion.conversation.pipeline``) depends only on these Protocols;
each domain implements its port in its own service. The values here are the whole
vocabulary the domains share about a turn.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from companion.conversation.lore import LoreEntry
from companion.conversation.types import TurnRequest
from companion.llm.base import ChatMessage
from companion.store.kv import LockHold
from companion.types import PAD

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

__all__ = [
    "CompanionState",
    "MemoryPort",
    "PersonalityPort",
    "ResetMark",
    "RetrievedMemory",
    "SecurityAction",
    "SecurityPort",
    "SecurityVerdict",
    "ShortTermTurn",
    "ToolPort",
    "TurnRecord",
]


# --- security -----------------------------------------------------------------------

SecurityAction = Literal["allow", "warn", "restrict", "block", "suspended"]


@dataclass(frozen=True)
class SecurityVerdict:
    """The detector's judgement of one message and what escalation decided.

    ``flagged`` is the detector's call (confidence above the action threshold);
    ``action`` is what the pipeline must do: ``allow`` and ``warn`` generate a reply
    (``warn`` is flagged but below blocking), ``restrict``/``block``/``suspended``
    answer with ``reply`` (in character, polite) and generate nothing. A flagged
    message is never turned into a memory.
    """

    flagged: bool
    category: str | None
    confidence: float
    layer: str
    action: SecurityAction = "allow"
    reply: str | None = None
    incident_id: int | None = None

    @property
    def blocks_generation(self) -> bool:
        """Whether the pipeline must answer with ``reply`` instead of the model."""
        return self.action in ("restrict", "block", "suspended")


@runtime_checkable
class SecurityPort(Protocol):
    """Checks a message, records incidents and applies escalation."""

    async def check(
        self, *, user_id: str, text: str, standing: tuple[int, str] | None = None
    ) -> SecurityVerdict:
        """Judge ``text`` from ``user_id``; a suspended user gets ``action="suspended"``.

        ``standing``: the user's ``(security_level, status)`` when the caller read the
        user's row in this turn (the check then does not read it again).
        """
        ...


# --- personality ----------------------------------------------------------------------


@dataclass(frozen=True)
class CompanionState:
    """The companion's state for one user at the start of a turn.

    ``pad`` already includes homeostasis up to now. ``prompt_block`` is the rendered
    persona (personality template + style guidance), short enough for a small model, and
    the same from turn to turn; ``mood_block`` holds what changes every turn (mood and
    needs), which the prompt puts next to the new message.
    """

    user_id: str
    name: str
    preset: str
    big_five: dict[str, float]
    pad: PAD
    baseline: PAD
    emotion: str
    needs: dict[str, float] = field(default_factory=dict)
    urgent_needs: Sequence[str] = ()
    quirks: Sequence[str] = ()
    style: dict[str, int] = field(default_factory=dict)
    prompt_block: str = ""
    mood_block: str = ""
    snapshot_id: int | None = None
    #: The user's IANA timezone and when they last talked with the companion.
    timezone: str = "UTC"
    last_talk: datetime | None = None
    #: Lorebook entries of an imported character card and how many turns they scan.
    lore: Sequence[LoreEntry] = ()
    lore_depth: int = 3
    #: Which of the person's companions this is (``None`` outside the database).
    companion_id: int | None = None


@runtime_checkable
class PersonalityPort(Protocol):
    """Loads the companion's state, appraises a message, and learns from a turn."""

    async def load_state(
        self,
        *,
        user_id: str,
        now: datetime | None = None,
        session: AsyncSession | None = None,
    ) -> CompanionState:
        """The state for ``user_id`` (created from the default preset on first contact).

        ``session``: the turn's read transaction, to read in (else the port opens one).
        """
        ...

    async def stored_state(
        self,
        *,
        user_id: str,
        conn: AsyncSession | AsyncConnection,
        now: datetime | None = None,
    ) -> CompanionState | None:
        """The state for ``user_id`` if it is stored, else ``None`` (nothing created).

        ``conn``: a connection to read on (the turn's autocommit one for a known user).
        """
        ...

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
        """``stored_state`` and the caller's one-row select ``lead`` (run with
        ``params``; its ``owner`` parameter is ``user_id``) in one statement where the
        state is in the database: the lead's first ``columns`` values and the state
        (``None``: not stored), or ``None`` when the lead finds no row.
        """
        ...

    def appraise(self, state: CompanionState, *, text: str, threat: bool = False) -> PAD:
        """The mood after hearing ``text`` (pure and fast: rules and lexicon only)."""
        ...

    async def after_turn(self, record: TurnRecord, *, session: AsyncSession | None = None) -> None:
        """Before the reply is returned: persist the new mood, satisfy needs, observe the reply.

        ``session``: the turn's write transaction, to write in (else the port opens one);
        an error leaves that transaction unusable (the caller rolls it back).
        """
        ...


# --- memory ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrievedMemory:
    """A memory chosen for the prompt, with why and where it came from."""

    id: str
    content: str
    memory_type: str
    score: float
    reason: str
    created_at: datetime
    valid_from: datetime | None = None
    invalid_at: datetime | None = None
    source_message_ids: Sequence[str] = ()


@dataclass(frozen=True)
class ResetMark:
    """A conversation's short-term reset time as the turn read it (``None``: never reset)."""

    at: datetime | None


@dataclass(frozen=True)
class ShortTermTurn:
    """One line of recent conversation for the prompt."""

    role: Literal["user", "assistant"]
    content: str


@runtime_checkable
class MemoryPort(Protocol):
    """Retrieval for the prompt, the short-term buffer, and learning from a turn."""

    async def retrieve(self, *, user_id: str, query: str, k: int = 6) -> list[RetrievedMemory]:
        """The most useful current memories of ``user_id`` for ``query``."""
        ...

    async def short_term(
        self, *, user_id: str, conversation_id: uuid.UUID, reset: ResetMark | None = None
    ) -> list[ShortTermTurn]:
        """The last turns of the conversation (since ``reset``, read if not given), oldest first."""
        ...

    async def note_turn(self, record: TurnRecord, *, release: LockHold | None = None) -> None:
        """At once, after the turn is stored: add it to the short-term buffer (not if flagged).

        ``release``: the turn's lock, which may be given back by the same write (the
        write is the turn's last under it); if not, the lock's block releases it.
        """
        ...

    def carried(self, lines: int) -> int:
        """Of the ``lines`` recent lines a turn read, how many the next turn reads too
        (the oldest may leave the short-term window when this turn's two come in)."""
        ...

    async def remember_turn(self, record: TurnRecord) -> None:
        """Queued: episodic memory and facts; idempotent per turn (never for flagged text)."""
        ...

    async def remember_turns(self, records: Sequence[TurnRecord]) -> list[Exception | None]:
        """``remember_turn`` for several turns at once (a queue worker's batch); each
        turn's outcome in order: ``None`` (done) or the error (retried alone)."""
        ...


# --- the turn, as the domains see it afterwards -----------------------------------------


@dataclass(frozen=True)
class TurnRecord:
    """Everything that happened in one persisted turn, handed to the work after it."""

    user_id: str
    conversation_id: uuid.UUID
    interaction_id: int
    user_message_id: int
    reply_message_id: int
    user_text: str
    reply_text: str
    created_at: datetime
    pad_before: PAD
    pad_after: PAD
    emotion: str
    flagged: bool
    channel: str = "api"
    speaker: str | None = None
    security_category: str | None = None
    #: Whether the companion that answered is known (read with the turn): then
    #: ``private_companion`` is its id when it is private, else ``None`` (shared).
    companion_known: bool = False
    private_companion: int | None = None
    #: The companion whose state the turn started from, when the turn path knows it
    #: (``None``: look it up from the stored turn).
    companion_id: int | None = None


# --- tools ------------------------------------------------------------------------


@runtime_checkable
class ToolPort(Protocol):
    """The optional tool step (``companion.tools.agent.ToolAgent``).

    Given the turn and its prompt, returns the prompt for the reply: unchanged for a
    user without tools, or with the results of the tools the model called fenced in
    as data. Never raises: a failing tool phase leaves the prompt as it was.
    ``timezone``: the user's, when the turn already read it (else the port reads it).
    """

    async def augment(
        self, request: TurnRequest, messages: Sequence[ChatMessage], *, timezone: str | None = None
    ) -> list[ChatMessage]: ...
