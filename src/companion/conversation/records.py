"""What a turn writes and returns, built from what it knows (pure: no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from companion.conversation.generation import Generation
from companion.conversation.persist import PersistedTurn, TurnFacts
from companion.conversation.ports import CompanionState, SecurityVerdict, TurnRecord
from companion.conversation.types import TurnRequest, TurnResult
from companion.personality.core import emotion_label
from companion.types import PAD

__all__ = ["turn_facts", "turn_record", "turn_result"]


def turn_facts(
    request: TurnRequest,
    text: str,
    conversation_id: uuid.UUID,
    new_conversation: bool,
    verdict: SecurityVerdict,
    state: CompanionState,
    generation: Generation,
    pad_after: PAD,
    elapsed_ms: int,
) -> TurnFacts:
    """The rows of the turn (before generation: an empty reply and the mood unchanged)."""
    completion = generation.completion
    return TurnFacts(
        user_id=request.user_id,
        conversation_id=conversation_id,
        new_conversation=new_conversation,
        channel=request.channel,
        external_conversation_id=request.external_conversation_id,
        username=request.username,
        message_external_id=request.message_external_id,
        user_text=text,
        reply_text=generation.reply,
        pad_before=state.pad,
        pad_after=pad_after,
        emotion_before=state.emotion,
        emotion_after=emotion_label(pad_after),
        verdict=verdict,
        snapshot_id=state.snapshot_id,
        memory_ids=generation.memory_ids,
        latency_ms=elapsed_ms,
        prompt_tokens=completion.usage.prompt_tokens if completion else 0,
        completion_tokens=completion.usage.completion_tokens if completion else 0,
        model=completion.model if completion else None,
        provider=completion.provider if completion else None,
        fallback_used=completion.fallback_used if completion else False,
        error=generation.error,
    )


def turn_record(
    request: TurnRequest,
    text: str,
    conversation_id: uuid.UUID,
    verdict: SecurityVerdict,
    state: CompanionState,
    generation: Generation,
    stored: PersistedTurn,
    pad_after: PAD,
) -> TurnRecord:
    """The stored turn as the domains see it afterwards (mood, short-term buffer)."""
    return TurnRecord(
        user_id=request.user_id,
        conversation_id=conversation_id,
        interaction_id=stored.interaction_id,
        user_message_id=stored.user_message_id,
        reply_message_id=stored.reply_message_id,
        user_text=text,
        reply_text=generation.reply,
        created_at=datetime.now(UTC),
        pad_before=state.pad,
        pad_after=pad_after,
        emotion=emotion_label(pad_after),
        flagged=verdict.flagged,
        channel=request.channel,
        speaker=request.username,
        security_category=verdict.category,
        companion_id=state.companion_id,
    )


def turn_result(
    conversation_id: uuid.UUID,
    verdict: SecurityVerdict,
    generation: Generation,
    interaction_id: int,
    pad_after: PAD,
    elapsed_ms: int,
    stages: dict[str, float] | None = None,
) -> TurnResult:
    """What the channel gets back (``stages``: milliseconds per step, see TurnResult)."""
    completion = generation.completion
    return TurnResult(
        reply=generation.reply,
        conversation_id=conversation_id,
        interaction_id=interaction_id,
        emotion=emotion_label(pad_after),
        pad_after=pad_after.to_dict(),
        memories_used=list(generation.memory_ids),
        processing_time_ms=elapsed_ms,
        model=completion.model if completion else "",
        provider=completion.provider if completion else "",
        fallback_used=completion.fallback_used if completion else False,
        flagged=verdict.flagged,
        security_action=verdict.action,
        error=generation.error,
        model_latency_ms=generation.model_ms,
        prompt_tokens=completion.usage.prompt_tokens if completion else 0,
        completion_tokens=completion.usage.completion_tokens if completion else 0,
        stages=dict(stages or {}),
    )
