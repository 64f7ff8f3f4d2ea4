"""The conversation domain: the one turn pipeline every channel uses, and its ports."""

from __future__ import annotations

from companion.conversation.build import build_conversation, pipeline_config
from companion.conversation.limits import PUBLIC_LIMITS, Limit, RateLimiter, profile_limits
from companion.conversation.pipeline import ConversationService, PipelineConfig
from companion.conversation.ports import (
    CompanionState,
    MemoryPort,
    PersonalityPort,
    RetrievedMemory,
    SecurityPort,
    SecurityVerdict,
    ShortTermTurn,
    TurnRecord,
)
from companion.conversation.types import SessionInfo, TurnEvent, TurnRequest, TurnResult

__all__ = [
    "PUBLIC_LIMITS",
    "CompanionState",
    "ConversationService",
    "Limit",
    "MemoryPort",
    "PersonalityPort",
    "PipelineConfig",
    "RateLimiter",
    "RetrievedMemory",
    "SecurityPort",
    "SecurityVerdict",
    "SessionInfo",
    "ShortTermTurn",
    "TurnEvent",
    "TurnRecord",
    "TurnRequest",
    "TurnResult",
    "build_conversation",
    "pipeline_config",
    "profile_limits",
]
