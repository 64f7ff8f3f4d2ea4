"""Helpers for personality integration tests: a turn record and an interaction row."""

from __future__ import annotations

import uuid
from datetime import datetime

from companion.conversation.ports import TurnRecord
from companion.store.repositories import interactions
from companion.types import PAD


def turn(
    user_id: str,
    text: str,
    reply: str,
    *,
    at: datetime,
    before: PAD,
    after: PAD,
    flagged: bool = False,
) -> TurnRecord:
    """A ``TurnRecord`` as the pipeline would hand it over."""
    return TurnRecord(
        user_id=user_id,
        conversation_id=uuid.uuid4(),
        interaction_id=0,
        user_message_id=0,
        reply_message_id=0,
        user_text=text,
        reply_text=reply,
        created_at=at,
        pad_before=before,
        pad_after=after,
        emotion="",
        flagged=flagged,
    )


async def log_interaction(
    runtime: object, user_id: str, text: str, reply: str, *, at: datetime, after: PAD
) -> None:
    """Insert the interaction row the pipeline writes for a turn (drift reads pad_after)."""
    async with runtime.db.transaction() as session:  # type: ignore[attr-defined]
        await interactions.record_interaction(
            session,
            user_id=user_id,
            timestamp=at,
            user_message=text,
            agent_response=reply,
            pad_after=after.to_dict(),
        )


async def converse(runtime: object, user_id: str, text: str, reply: str, *, at: datetime) -> PAD:
    """One full turn through the port: load, appraise, log, after_turn."""
    service = runtime.personality  # type: ignore[attr-defined]
    state = await service.load_state(user_id=user_id, now=at)
    after = service.appraise(state, text=text)
    await log_interaction(runtime, user_id, text, reply, at=at, after=after)
    await service.after_turn(turn(user_id, text, reply, at=at, before=state.pad, after=after))
    return after
