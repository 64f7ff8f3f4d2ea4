"""Retention for what users said: conversations past each user's ``data_retention_days``.

The nightly ``retention_cleanup`` job deletes memories past retention (the memory
domain's part) and calls ``delete_expired`` for the raw text kept elsewhere: the
interactions (user message and reply), the messages, flagged-message incidents
(they quote the message), proactive decisions (they hold the message sent), and the
conversations left with no message. Idempotent: a second run deletes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from companion.store.database import Database

__all__ = ["delete_expired"]

_CUTOFF = "CAST(:now AS timestamptz) - make_interval(days => u.data_retention_days)"

#: (count name, statement); interactions first: they point at messages.
_STATEMENTS: tuple[tuple[str, str], ...] = (
    (
        "interactions",
        "DELETE FROM interactions t USING users u WHERE t.user_id = u.id "
        f"AND t.timestamp < {_CUTOFF}",
    ),
    (
        "security_incidents",
        "DELETE FROM security_incidents t USING users u WHERE t.user_id = u.id "
        f"AND t.detected_at < {_CUTOFF}",
    ),
    (
        "proactive_decisions",
        "DELETE FROM proactive_decisions t USING users u WHERE t.user_id = u.id "
        f"AND t.evaluated_at < {_CUTOFF}",
    ),
    (
        "messages",
        f"DELETE FROM messages t USING users u WHERE t.user_id = u.id AND t.created_at < {_CUTOFF}",
    ),
    (
        "conversations",
        "DELETE FROM conversations t USING users u WHERE t.user_id = u.id "
        f"AND t.last_activity < {_CUTOFF} "
        "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = t.id)",
    ),
)


async def delete_expired(db: Database, *, now: datetime | None = None) -> dict[str, int]:
    """Delete conversation data older than each user's retention; counts per table."""
    counts: dict[str, int] = {}
    params = {"now": now or datetime.now(UTC)}
    async with db.transaction() as session:
        for name, statement in _STATEMENTS:
            result = await session.execute(text(statement), params)
            counts[f"{name}_deleted"] = int(result.rowcount)  # type: ignore[attr-defined]
    return counts
