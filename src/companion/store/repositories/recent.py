"""Recent lines of a conversation from the stored messages (the short-term fallback)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["MESSAGE_BEFORE", "earlier_user_text", "message_before", "recent_turns"]

#: The conversation's last line (either side) before ``:before``, skipping the lines of
#: turns flagged by security (they never become memory, not even context). The flagged
#: turns' message ids are read once (an array; one probe of the partial index
#: ``ix_interactions_flagged``, usually empty): as a NOT EXISTS, PostgreSQL probed that
#: index once for every message of the conversation it looked at (it looks at all of
#: them before sorting), ~2 pages each, ~230 pages for a conversation of 115 lines.
MESSAGE_BEFORE = """
SELECT m.content FROM messages m
WHERE m.user_id = :user_id AND m.conversation_id = :conversation_id
  AND m.role IN ('user', 'assistant') AND m.id < :before
  AND m.id <> ALL (ARRAY(
    SELECT f.id FROM interactions i
    CROSS JOIN LATERAL (VALUES (i.user_message_id), (i.reply_message_id)) AS f(id)
    WHERE i.user_id = :user_id AND i.session_id = :conversation_id
      AND NOT i.security_check_passed AND f.id IS NOT NULL
  ))
ORDER BY m.id DESC
LIMIT 1
"""

# Lines of turns still being answered ('started') or flagged by security are left out:
# the first is the message being answered now, the second must never be replayed.
_RECENT = text(
    """
    SELECT m.role, m.content FROM messages m
    WHERE m.user_id = :user_id AND m.conversation_id = :conversation_id
      AND m.role IN ('user', 'assistant')
      AND (CAST(:since AS timestamptz) IS NULL OR m.created_at > CAST(:since AS timestamptz))
      AND NOT EXISTS (
        SELECT 1 FROM interactions i
        WHERE i.user_id = :user_id AND i.session_id = :conversation_id
          AND (i.user_message_id = m.id OR i.reply_message_id = m.id)
          AND (i.status = 'started' OR NOT i.security_check_passed)
      )
    ORDER BY m.id DESC
    LIMIT :limit
    """
)


async def recent_turns(
    session: AsyncSession,
    *,
    user_id: str,
    conversation_id: uuid.UUID,
    since: datetime | None,
    limit: int,
) -> list[tuple[str, str]]:
    """The conversation's last ``limit`` lines (role, content) after ``since``, oldest first."""
    rows = await session.execute(
        _RECENT,
        {"user_id": user_id, "conversation_id": conversation_id, "since": since, "limit": limit},
    )
    return [(str(role), str(content)) for role, content in reversed(rows.all())]


async def earlier_user_text(
    session: AsyncSession,
    *,
    user_id: str,
    conversation_id: uuid.UUID,
    before_message_id: int,
    limit: int,
) -> str:
    """The user's last ``limit`` messages before ``before_message_id``, oldest first, joined."""
    rows = await session.execute(
        text(
            "SELECT content FROM messages WHERE user_id = :user_id "
            "AND conversation_id = :conversation_id AND role = 'user' AND id < :before "
            "ORDER BY id DESC LIMIT :limit"
        ),
        {
            "user_id": user_id,
            "conversation_id": conversation_id,
            "before": before_message_id,
            "limit": max(1, limit),
        },
    )
    return " ".join(reversed([str(content) for (content,) in rows]))


async def message_before(
    session: AsyncSession, *, user_id: str, conversation_id: uuid.UUID, before_message_id: int
) -> str | None:
    """The conversation's last line (either side) before ``before_message_id``; lines of
    turns flagged by security are skipped (they never become memory, not even context)."""
    content = await session.scalar(
        text(MESSAGE_BEFORE),
        {"user_id": user_id, "conversation_id": conversation_id, "before": before_message_id},
    )
    return None if content is None else str(content)
