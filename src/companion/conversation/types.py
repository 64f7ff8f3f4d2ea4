"""What channels send into the pipeline and get back from it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["TurnEvent", "TurnRequest", "TurnResult"]


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


@dataclass(frozen=True)
class TurnResult:
    """The reply and its bookkeeping (seed 000's MessageResponse, plus more)."""

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


@dataclass(frozen=True)
class TurnEvent:
    """A streamed event: ``delta`` pieces of the reply, then one ``done`` with the result."""

    kind: Literal["delta", "done"]
    text: str = ""
    result: TurnResult | None = None
