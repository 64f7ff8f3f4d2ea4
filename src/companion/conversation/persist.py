"""Writing one turn: both messages and the interaction row, in ONE transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from companion.conversation.ports import SecurityVerdict
from companion.store.database import Database
from companion.store.repositories import conversations, interactions, users
from companion.types import PAD

__all__ = ["PersistedTurn", "TurnFacts", "persist_turn"]


@dataclass
class TurnFacts:
    """Everything known about a finished turn that goes into the database."""

    user_id: str
    conversation_id: uuid.UUID
    new_conversation: bool
    channel: str
    external_conversation_id: str | None
    username: str | None
    message_external_id: str | None
    user_text: str
    reply_text: str
    pad_before: PAD
    pad_after: PAD
    emotion_before: str
    emotion_after: str
    verdict: SecurityVerdict
    snapshot_id: int | None = None
    memory_ids: list[str] = field(default_factory=list)
    latency_ms: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str | None = None
    provider: str | None = None
    fallback_used: bool = False
    error: str | None = None


@dataclass(frozen=True)
class PersistedTurn:
    """The ids the database gave the turn."""

    interaction_id: int
    user_message_id: int
    reply_message_id: int
    message_count: int


async def persist_turn(db: Database, facts: TurnFacts) -> PersistedTurn:
    """Store the turn atomically: either all of it is written or none of it."""
    async with db.transaction() as session:
        if facts.new_conversation:
            conversation = await conversations.create_conversation(
                session,
                user_id=facts.user_id,
                conversation_id=facts.conversation_id,
                external_id=facts.external_conversation_id,
                channel=facts.channel,
            )
        else:
            conversation = await conversations.get_conversation(
                session, user_id=facts.user_id, conversation_id=facts.conversation_id
            )
        asked = await conversations.add_message(
            session,
            user_id=facts.user_id,
            conversation_id=conversation.id,
            role="user",
            content=facts.user_text,
            speaker=facts.username,
            external_id=facts.message_external_id,
        )
        answered = await conversations.add_message(
            session,
            user_id=facts.user_id,
            conversation_id=conversation.id,
            role="assistant",
            content=facts.reply_text,
        )
        row = await interactions.record_interaction(
            session, user_id=facts.user_id, **_interaction_fields(facts, asked.id, answered.id)
        )
        await users.touch_user(session, user_id=facts.user_id)
        count = conversation.message_count + 2
    return PersistedTurn(row.id, asked.id, answered.id, count)


def _interaction_fields(facts: TurnFacts, asked: int, answered: int) -> dict[str, object]:
    verdict = facts.verdict
    return {
        "session_id": facts.conversation_id,
        "user_message_id": asked,
        "reply_message_id": answered,
        "channel": facts.channel,
        "user_message": facts.user_text,
        "agent_response": facts.reply_text,
        "personality_snapshot_id": facts.snapshot_id,
        "pad_before": facts.pad_before.to_dict(),
        "pad_after": facts.pad_after.to_dict(),
        "emotion_before": facts.emotion_before,
        "emotion_after": facts.emotion_after,
        "response_time_ms": facts.latency_ms,
        "token_count": facts.prompt_tokens + facts.completion_tokens,
        "prompt_tokens": facts.prompt_tokens,
        "completion_tokens": facts.completion_tokens,
        "llm_model_used": facts.model,
        "llm_provider": facts.provider,
        "memories_retrieved": len(facts.memory_ids),
        "memory_ids": list(facts.memory_ids),
        "error_occurred": facts.error is not None,
        "error_message": facts.error,
        "fallback_used": facts.fallback_used,
        "security_check_passed": not verdict.flagged,
        "security_threat_detected": verdict.category if verdict.flagged else None,
        "security_confidence": verdict.confidence,
    }
