"""What channels send into the pipeline and get back from it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = ["SessionInfo", "TurnEvent", "TurnRequest", "TurnResult"]


@dataclass(frozen=True)
class TurnRequest:
    """One user message to answer.

    ``conversation_id`` must be the user's (else ``NotFound``); otherwise
    ``external_conversation_id`` (a Discord channel, a Telegram chat) finds or starts
    one; with neither, the user's most recent conversation on ``channel`` is used.
    """

    user_id: str
    text: str
    channel: str = "api"
    conversation_id: uuid.UUID | None = None
    external_conversation_id: str | None = None
    username: str | None = None
    message_external_id: str | None = None
    #: Start a fresh conversation even if one exists (the service API's null conversation_id).
    new_conversation: bool = False
    #: The caller is an admin (admins may always use tools).
    is_admin: bool = False


@dataclass(frozen=True)
class TurnResult:
    """The reply and its bookkeeping (the Discord design's MessageResponse, plus more)."""

    reply: str
    conversation_id: uuid.UUID
    interaction_id: int
    emotion: str
    pad_after: dict[str, float]
    memories_used: list[str] = field(default_factory=list)
    processing_time_ms: int = 0
    model: str = ""
    provider: str = ""
    fallback_used: bool = False
    flagged: bool = False
    security_action: str = "allow"
    #: Set when no model could answer: ``reply`` is then an in-character apology,
    #: recorded with ``error_occurred``; API callers answer 503.
    error: str | None = None
    model_latency_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: Where the turn's time went, in milliseconds (counts for ``full_gc`` and
    #: ``memory_work``): the steps before the model (``read_ms``, ``retrieval_ms``,
    #: ``short_term_ms``, ``security_ms``, ``begin_turn_ms``, ``total_ms`` for all of
    #: them), ``reply_ms`` (generation outside the model), ``lock_ms`` (waiting for
    #: the user's lock, before the turn's clock starts), and what else the process did
    #: meanwhile: ``lag_ms`` (the event loop late), ``gc_ms`` / ``full_gc``
    #: (collections), ``memory_work`` (queued items running when the turn began).
    stages: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionInfo:
    """A user's current chat session (``GET /api/chat/session/{user_id}``)."""

    user_id: str
    conversation_id: uuid.UUID | None
    channel: str | None
    message_count: int
    started_at: datetime | None
    last_activity: datetime | None
    total_interactions: int
    emotion: str
    pad: dict[str, float]
    short_term_reset_at: datetime | None = None


@dataclass(frozen=True)
class TurnEvent:
    """A streamed event: ``delta`` pieces of the reply, then one ``done`` with the result.

    ``done``'s ``result.reply`` is always the whole reply. A turn answered without the
    model (blocked by security, or every provider failed) has no deltas at all.
    """

    kind: Literal["delta", "done"]
    text: str = ""
    result: TurnResult | None = None
