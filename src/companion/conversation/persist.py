"""Writing one turn durably: the user's message first, the reply when it is done.

``begin_turn`` stores the user message, a ``started`` interaction and the turn's
post-turn work item atomically before generation (one statement; with a new
conversation's row, one transaction); ``finish_turn`` stores the reply and completes
the interaction in a transaction (the pipeline's, which the mood joins). Nothing the
user said depends on the reply being generated, streamed or received.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import (
    DateTime,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from companion.conversation.ports import SecurityVerdict
from companion.errors import NotFound
from companion.store import driver
from companion.store.database import Database
from companion.store.models import Interaction, WorkItem
from companion.store.queue import DUE_NOW
from companion.store.repositories import conversations, users
from companion.types import PAD

__all__ = [
    "LEARN",
    "PersistedTurn",
    "StartedTurn",
    "TurnFacts",
    "begin_turn",
    "finish_turn",
]


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
class StartedTurn:
    """The ids of a turn stored before generation (user message + ``started`` row)."""

    interaction_id: int
    user_message_id: int


@dataclass(frozen=True)
class PersistedTurn:
    """The ids the database gave the turn."""

    interaction_id: int
    user_message_id: int
    reply_message_id: int
    message_count: int


#: The queued post-turn work of a turn (memory); keyed by the interaction id.
LEARN = "turn.learn"

_INTERACTIONS = cast(Table, Interaction.__table__)
_ITEMS = cast(Table, WorkItem.__table__)
#: What ``finish_turn`` sets on the interaction (``_interaction_fields`` and the status).
_FINISHED = (
    "session_id", "user_message_id", "reply_message_id", "channel", "user_message",
    "agent_response", "personality_snapshot_id", "pad_before", "pad_after",
    "emotion_before", "emotion_after", "response_time_ms", "token_count", "prompt_tokens",
    "completion_tokens", "llm_model_used", "llm_provider", "memories_retrieved",
    "memory_ids", "error_occurred", "error_message", "fallback_used",
    "security_check_passed", "security_threat_detected", "security_confidence", "status",
)  # fmt: skip
#: The interaction's final fields, its work item made due and the user's activity:
#: one statement (the last two as data-modifying CTEs). Every value is a named bound
#: parameter that is no column's name: SQLAlchemy would otherwise read a parameter
#: named like a column as a SET of that column in each of the three updates.
_FINISH = driver.DriverStatement(
    "the interaction finished, its work item due, the user's activity",
    update(_INTERACTIONS)
    .where(
        _INTERACTIONS.c.id == bindparam("interaction_key"),
        _INTERACTIONS.c.user_id == bindparam("user_key"),
    )
    .values({name: bindparam(f"finish_{name}") for name in _FINISHED})
    .add_cte(DUE_NOW.cte("due"))
    .add_cte(users.TOUCH.cte("touched")),
)
#: The user's message (with its conversation's activity bump, which is also the check
#: that the conversation is the user's), the ``started`` interaction naming it and the
#: interaction's work item: ONE statement, so atomic without a transaction. It returns
#: ``(interaction id, message id)``, or no row (nothing written) when the conversation
#: is not the user's.
_ASKED = conversations.APPENDED
_STARTED_AFTER = (
    insert(_INTERACTIONS)
    .from_select(
        ["user_id", *_FINISHED],
        select(
            *(
                _ASKED.c.id
                if name == "user_message_id"
                else bindparam(f"finish_{name}", type_=_INTERACTIONS.c[name].type)
                for name in ("user_id", *_FINISHED)
            )
        ).select_from(_ASKED),
    )
    .returning(_INTERACTIONS.c.id)
    .cte("started")
)
_RUN_BEGIN = driver.DriverStatement(
    "the user's message, the started interaction and its work item",
    select(_STARTED_AFTER.c.id, _ASKED.c.id)
    .select_from(_STARTED_AFTER.join(_ASKED, true()))
    .add_cte(
        pg_insert(_ITEMS)
        .from_select(
            ["kind", "key", "user_id", "payload", "run_after"],
            select(
                literal(LEARN),
                sql_cast(_STARTED_AFTER.c.id, String),
                bindparam("finish_user_id"),
                func.jsonb_build_object("interaction_id", _STARTED_AFTER.c.id),
                bindparam("learn_after", type_=DateTime(timezone=True)),
            ),
        )
        .on_conflict_do_nothing(constraint="uq_work_items_kind_key")
        .cte("queued")
    ),
)


async def begin_turn(db: Database, facts: TurnFacts, *, recover_after: float) -> StartedTurn:
    """Store the user's message before anything is generated, atomically.

    One statement, in autocommit (no ``BEGIN`` and ``COMMIT`` round trips); with a new
    conversation, its row first and then that statement, in one transaction. ``NotFound``
    (and nothing written) when the conversation is not the user's.

    Writes the conversation (if new), the user message, the interaction as ``started``
    and its post-turn work item, due only after ``recover_after`` seconds: if this
    process dies mid-turn, a worker then finds the turn still ``started``, marks it
    ``interrupted`` and learns from the user's message. ``finish_turn`` makes the
    item due at once.
    """
    fields = {
        **_interaction_fields(facts, 0, None),  # the message's id comes from the statement
        "user_id": facts.user_id,
        "status": "started",
    }
    params = {
        **{f"finish_{name}": fields[name] for name in ("user_id", *_FINISHED)},
        "learn_after": datetime.now(UTC) + timedelta(seconds=recover_after),
        "owner": facts.user_id,
        "conversation": facts.conversation_id,
        "message_role": "user",
        "message_content": facts.user_text,
        "message_speaker": facts.username,
        "message_external_id": facts.message_external_id,
    }
    if facts.new_conversation:
        async with db.transaction() as session:
            await conversations.create_conversation(
                session,
                user_id=facts.user_id,
                conversation_id=facts.conversation_id,
                external_id=facts.external_conversation_id,
                channel=facts.channel,
            )
            row = await driver.fetchrow(session, _RUN_BEGIN, params)
    else:
        # One statement is atomic by itself: autocommit, without the BEGIN and COMMIT
        # round trips (and the session) of a transaction.
        async with db.autocommit() as conn:
            row = await driver.fetchrow(conn, _RUN_BEGIN, params)
    if row is None:  # the conversation is not the user's; nothing was written
        raise NotFound(f"conversation {facts.conversation_id} not found")
    return StartedTurn(int(row[0]), int(row[1]))


async def finish_turn(
    session: AsyncSession, facts: TurnFacts, started: StartedTurn, *, status: str = "complete"
) -> PersistedTurn:
    """Store the reply and complete the interaction; its work item becomes due now.

    In the caller's transaction (the turn's write transaction, which the mood joins):
    the reply message, the interaction's final fields and status (``complete`` or
    ``interrupted``), the work item, the user's activity.
    """
    answered, count = await conversations.append_message(
        session,
        user_id=facts.user_id,
        conversation_id=facts.conversation_id,
        role="assistant",
        content=facts.reply_text,
    )
    fields = {
        **_interaction_fields(facts, started.user_message_id, answered),
        "status": status,
    }
    await driver.execute(
        session,
        _FINISH,
        {
            "interaction_key": started.interaction_id,
            "user_key": facts.user_id,
            **{f"finish_{name}": fields[name] for name in _FINISHED},
            "due_kind": LEARN,
            "due_key": str(started.interaction_id),
            "touch_user": facts.user_id,
            "touch_count": 1,
        },
    )
    return PersistedTurn(started.interaction_id, started.user_message_id, answered, count)


def _interaction_fields(facts: TurnFacts, asked: int, answered: int | None) -> dict[str, object]:
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
