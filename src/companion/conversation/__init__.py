"""The conversation domain: the one turn pipeline every channel uses, and its ports."""

from __future__ import annotations

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
from companion.conversation.types import TurnEvent, TurnRequest, TurnResult

__all__ = [
    "CompanionState",
    "MemoryPort",
    "PersonalityPort",
    "RetrievedMemory",
    "SecurityPort",
    "SecurityVerdict",
    "ShortTermTurn",
    "TurnEvent",
    "TurnRecord",
    "TurnRequest",
    "TurnResult",
]
