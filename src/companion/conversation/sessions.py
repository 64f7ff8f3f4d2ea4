"""Session-level operations around the pipeline: info, short-term reset, memory clear.

Reset and clear reach the memory service through optional methods
(``reset_short_term(user_id=, conversation_id=)`` and ``clear(user_id=, conversation_id=)``)
because they are not part of the per-turn ``MemoryPort``.
"""

from __future__ import annotations

import inspect
import logging
import uuid

from companion.conversation.ports import MemoryPort, PersonalityPort
from companion.conversation.types import SessionInfo
from companion.store.database import Database
from companion.store.repositories import conversations, users

__all__ = ["clear_memories", "reset_short_term", "session_info"]

log = logging.getLogger(__name__)


async def session_info(db: Database, personality: PersonalityPort, *, user_id: str) -> SessionInfo:
    """The user's latest conversation and the companion's current mood."""
    async with db.transaction() as session:
        user = await users.get_user(session, user_id=user_id)
        latest = await conversations.latest_conversation(session, user_id=user_id)
    state = await personality.load_state(user_id=user_id)
    return SessionInfo(
        user_id=user_id,
        conversation_id=latest.id if latest else None,
        channel=latest.channel if latest else None,
        message_count=latest.message_count if latest else 0,
        started_at=latest.started_at if latest else None,
        last_activity=latest.last_activity if latest else None,
        total_interactions=user.total_interactions,
        emotion=state.emotion,
        pad=state.pad.to_dict(),
        short_term_reset_at=latest.short_term_reset_at if latest else None,
    )


async def reset_short_term(
    db: Database,
    memory: MemoryPort,
    *,
    user_id: str,
    conversation_id: uuid.UUID | None = None,
    external_conversation_id: str | None = None,
) -> uuid.UUID | None:
    """Forget the recent-turn buffer of the user's conversation; history stays.

    The conversation is ``conversation_id`` (must be the user's), else the one with
    ``external_conversation_id``, else the user's latest. Returns its id (``None``
    when the user has no conversation yet: nothing to reset).
    """
    async with db.transaction() as session:
        if conversation_id is None:
            found = await (
                conversations.find_conversation(
                    session, user_id=user_id, external_id=external_conversation_id
                )
                if external_conversation_id is not None
                else conversations.latest_conversation(session, user_id=user_id)
            )
            if found is None:
                return None
            conversation_id = found.id
        await conversations.mark_short_term_reset(
            session, user_id=user_id, conversation_id=conversation_id
        )
    clear = getattr(memory, "reset_short_term", None)
    if clear is not None:
        await clear(user_id=user_id, conversation_id=conversation_id)
    return conversation_id


async def clear_memories(
    db: Database, memory: MemoryPort, *, user_id: str, conversation_id: uuid.UUID | None
) -> int:
    """Delete the memories learnt in one conversation (all when ``None``).

    Also resets that conversation's short-term buffer. Returns how many long-term
    memories were deleted.
    """
    if conversation_id is not None:
        await reset_short_term(db, memory, user_id=user_id, conversation_id=conversation_id)
    clear = getattr(memory, "clear", None)
    if clear is None:
        log.warning("memory service has no clear(); nothing long-term to delete")
        return 0
    outcome = clear(user_id=user_id, conversation_id=conversation_id)
    count = await outcome if inspect.isawaitable(outcome) else outcome
    return int(count or 0)
