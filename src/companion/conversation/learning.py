"""The queued work after a turn: learn from it (memory), recovering turns cut off by a crash.

A turn's work item (``persist.LEARN``, keyed by interaction id) is written with the
user's message. It runs when the turn finishes, or, if the process that answered
died mid-turn, once the turn's lock could no longer be held: the interaction is then
still ``started`` and is marked ``interrupted`` here before learning from it.

Re-running is harmless: the memory writer skips a turn whose episodic memory exists.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    any_,
    bindparam,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from companion.conversation import metrics
from companion.conversation.ports import MemoryPort, TurnRecord
from companion.personality.core import emotion_label
from companion.store import driver
from companion.store.database import Database
from companion.store.models import Interaction, Message
from companion.store.queue import QueuedItem
from companion.types import PAD

__all__ = ["TurnLearner"]

log = logging.getLogger(__name__)

#: The companion that answered the turn (that of the state the turn started from), read
#: with the turn: its id when private, 0 when shared, NULL when unknown.
_ANSWERED_BY: ColumnElement[Any] = literal_column(
    "(SELECT CASE WHEN c.is_private THEN c.id ELSE 0 END FROM personality_state ps "
    "JOIN companions c ON c.id = ps.companion_id "
    "WHERE ps.id = interactions.personality_snapshot_id)"
)

#: The interaction's columns the record needs, read as a row (no ORM object).
_TURN_COLUMNS = (
    Interaction.id, Interaction.session_id, Interaction.user_message_id,
    Interaction.reply_message_id, Interaction.status, Interaction.user_message,
    Interaction.agent_response, Interaction.timestamp, Interaction.pad_before,
    Interaction.pad_after, Interaction.emotion_after, Interaction.security_check_passed,
    Interaction.channel, Interaction.security_threat_detected,
)  # fmt: skip

#: What a recovered turn's interaction says happened.
RECOVERED = "the turn was cut off (the process answering it stopped); recovered by a worker"


class TurnLearner:
    """The handler of ``turn.learn`` items (one at a time, or several at once)."""

    def __init__(self, db: Database, memory: MemoryPort) -> None:
        self.db = db
        self.memory = memory

    async def __call__(self, item: QueuedItem) -> None:
        (outcome,) = await self.batch([item])
        if outcome is not None:
            raise outcome

    async def batch(self, items: list[QueuedItem]) -> list[Exception | None]:
        """Learn from several turns: one read of them all, then the memory work of those
        that store something in one call; each item's outcome (``None``: done)."""
        records = await self._records(items)
        todo: list[TurnRecord] = []
        for record in records.values():
            if record.flagged:
                log.info("flagged turn not stored as memory", extra={"user_id": record.user_id})
            else:
                todo.append(record)
        outcomes = dict(
            zip(
                (r.interaction_id for r in todo),
                await self.memory.remember_turns(todo) if todo else [],
                strict=True,
            )
        )
        for outcome in outcomes.values():
            metrics.MEMORY_OPS.labels("remember", "ok" if outcome is None else "error").inc()
        # A turn deleted since (forgotten, user deleted) or flagged: nothing to learn.
        return [outcomes.get(_interaction_id(item)) for item in items]

    async def _records(self, items: list[QueuedItem]) -> dict[int, TurnRecord]:
        """The items' turns by interaction id (missing: deleted since), in one statement."""
        wanted = {_interaction_id(i): i.user_id for i in items}
        records: dict[int, TurnRecord] = {}
        async with self.db.transaction() as session:
            rows = await driver.fetch(
                session, _TURNS, {"ids": list(wanted), "users": sorted(set(wanted.values()))}
            )
            for row in rows:
                if wanted.get(row["id"]) != row["user_id"]:  # an item names its user's turn only
                    continue
                if row["session_id"] is None or row["user_message_id"] is None:
                    continue
                if row["status"] == "started":
                    log.warning(
                        "recovering a turn cut off mid-generation",
                        extra={"user_id": row["user_id"], "interaction_id": row["id"]},
                    )
                    await session.execute(
                        update(Interaction)
                        .where(Interaction.id == row["id"])
                        .values(status="interrupted", error_message=RECOVERED)
                    )
                records[row["id"]] = _record(row)
        return records


#: The interaction ids of a batch and their users, as array parameters (one prepared
#: statement whatever the batch's size; the user filter keeps the read per user).
_IDS = bindparam("ids", type_=ARRAY(BigInteger))
_USERS = bindparam("users", type_=ARRAY(String))


#: The batch's turns, locked (built once: building it cost more CPU than running it).
_TURNS = driver.DriverStatement(
    "a batch's turns, locked",
    select(*_TURN_COLUMNS, Interaction.user_id, Message.speaker, _ANSWERED_BY)
    .outerjoin(Message, Message.id == Interaction.user_message_id)
    .where(Interaction.id == any_(_IDS), Interaction.user_id == any_(_USERS))
    .order_by(Interaction.id)
    .with_for_update(of=Interaction),
)


def _interaction_id(item: QueuedItem) -> int:
    return int(item.payload.get("interaction_id", item.key))


def _record(row: Any) -> TurnRecord:
    """The turn as the memory work sees it, from one row of the read."""
    answered_by = row[-1]
    pad_after = PAD.from_dict(row["pad_after"] or row["pad_before"] or {})
    return TurnRecord(
        user_id=row["user_id"],
        conversation_id=uuid.UUID(str(row["session_id"])),
        interaction_id=row["id"],
        user_message_id=row["user_message_id"],
        reply_message_id=row["reply_message_id"] or 0,
        user_text=row["user_message"] or "",
        reply_text=row["agent_response"],
        created_at=row["timestamp"].astimezone(UTC),
        pad_before=PAD.from_dict(row["pad_before"] or {}),
        pad_after=pad_after,
        emotion=row["emotion_after"] or emotion_label(pad_after),
        flagged=not row["security_check_passed"],
        channel=row["channel"],
        speaker=row["speaker"],
        security_category=row["security_threat_detected"],
        companion_known=answered_by is not None,
        private_companion=int(answered_by) if answered_by else None,
    )
