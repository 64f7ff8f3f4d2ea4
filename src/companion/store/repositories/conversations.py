"""Conversations and their messages, always read and written for one user."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar, cast

from sqlalchemy import Insert, Select, String, Table, Text, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from companion.errors import NotFound
from companion.store import driver
from companion.store.models import Conversation, Message

__all__ = [
    "APPENDED",
    "ConversationRef",
    "add_message",
    "append_message",
    "conversation_ref",
    "conversation_ref_read",
    "create_conversation",
    "find_conversation",
    "find_conversation_ref",
    "get_conversation",
    "get_or_create_conversation",
    "latest_conversation",
    "list_conversations",
    "list_messages",
    "mark_short_term_reset",
]

_S = TypeVar("_S")


async def get_conversation(
    session: AsyncSession, *, user_id: str, conversation_id: uuid.UUID
) -> Conversation:
    """The user's conversation; another user's id is ``NotFound`` like a missing one."""
    row = await session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id, Conversation.user_id == user_id
        )
    )
    if row is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return row


async def get_or_create_conversation(
    session: AsyncSession,
    *,
    user_id: str,
    conversation_id: uuid.UUID | None = None,
    external_id: str | None = None,
    channel: str = "api",
) -> Conversation:
    """Find by id (must be the user's) or external id; otherwise start a new one."""
    if conversation_id is not None:
        return await get_conversation(session, user_id=user_id, conversation_id=conversation_id)
    if external_id is not None:
        row = await session.scalar(
            select(Conversation).where(
                Conversation.user_id == user_id, Conversation.external_id == external_id
            )
        )
        if row is not None:
            return row
    row = Conversation(user_id=user_id, external_id=external_id, channel=channel)
    session.add(row)
    await session.flush()
    return row


async def find_conversation(
    session: AsyncSession,
    *,
    user_id: str,
    external_id: str | None = None,
    channel: str | None = None,
) -> Conversation | None:
    """The user's conversation with ``external_id``, else their latest on ``channel``
    (else their latest anywhere)."""
    statement, params = _chosen(_ROW, user_id=user_id, external_id=external_id, channel=channel)
    return cast(Conversation | None, await session.scalar(statement, params))


class ConversationRef(NamedTuple):
    """What a turn needs of its conversation: the id and the short-term reset mark."""

    id: uuid.UUID
    short_term_reset_at: datetime | None


class _Finders(NamedTuple, Generic[_S]):
    """The three reads that find a user's conversation, built once with bound values
    (the turn path runs one on every turn; building it cost more CPU than the query)."""

    by_external: _S
    on_channel: _S
    latest: _S


def _finders(*columns: Any) -> _Finders[Select[Any]]:
    owned = select(*columns).where(Conversation.user_id == bindparam("owner"))
    latest = (Conversation.last_activity.desc(), Conversation.started_at.desc())
    return _Finders(
        by_external=owned.where(Conversation.external_id == bindparam("external")).limit(1),
        on_channel=owned.where(
            Conversation.channel == bindparam("channel"), Conversation.external_id.is_(None)
        )
        .order_by(*latest)
        .limit(1),
        latest=owned.order_by(*latest).limit(1),
    )


_ROW = _finders(Conversation)
#: The turn path's reads: the same three, run on the driver (``store.driver``).
_REF = _Finders(
    *(
        driver.DriverStatement(f"the user's conversation ({how})", finder)
        for how, finder in zip(
            _Finders._fields,
            _finders(Conversation.id, Conversation.short_term_reset_at),
            strict=True,
        )
    )
)


def _chosen(
    finders: _Finders[_S], *, user_id: str, external_id: str | None, channel: str | None
) -> tuple[_S, dict[str, str]]:
    """The read that finds the conversation, and its values."""
    if external_id is not None:
        return finders.by_external, {"owner": user_id, "external": external_id}
    if channel is not None:
        return finders.on_channel, {"owner": user_id, "channel": channel}
    return finders.latest, {"owner": user_id}


async def find_conversation_ref(
    session: AsyncSession | AsyncConnection,
    *,
    user_id: str,
    external_id: str | None = None,
    channel: str | None = None,
) -> ConversationRef | None:
    """``find_conversation`` for the turn path: the same conversation, as two columns."""
    statement, params = _chosen(_REF, user_id=user_id, external_id=external_id, channel=channel)
    row = await driver.fetchrow(session, statement, params)
    return None if row is None else ConversationRef(row[0], row[1])


_REF_BY_ID = driver.DriverStatement(
    "the user's conversation by id",
    select(Conversation.id, Conversation.short_term_reset_at).where(
        Conversation.id == bindparam("conversation", type_=UUID(as_uuid=True)),
        Conversation.user_id == bindparam("owner"),
    ),
)


async def conversation_ref(
    session: AsyncSession | AsyncConnection, *, user_id: str, conversation_id: uuid.UUID
) -> ConversationRef:
    """``get_conversation`` for the turn path: the id and the reset mark, no ORM object."""
    row = await driver.fetchrow(
        session, _REF_BY_ID, {"conversation": conversation_id, "owner": user_id}
    )
    if row is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return ConversationRef(row[0], row[1])


def conversation_ref_read(
    *,
    user_id: str,
    conversation_id: uuid.UUID | None = None,
    external_id: str | None = None,
    channel: str | None = None,
) -> tuple[Select[Any], dict[str, Any]]:
    """The select of ``conversation_ref`` (by ``conversation_id``) or else of
    ``find_conversation_ref``, with its values: for a caller that reads it inside a
    statement of its own (the turn's first read). The select is the same object on
    every call for the same way of finding, and its owner's parameter is ``owner``."""
    if conversation_id is not None:
        by_id = cast(Select[Any], _REF_BY_ID.statement)
        return by_id, {"conversation": conversation_id, "owner": user_id}
    statement, params = _chosen(_REF, user_id=user_id, external_id=external_id, channel=channel)
    return cast(Select[Any], statement.statement), dict(params)


async def latest_conversation(session: AsyncSession, *, user_id: str) -> Conversation | None:
    """The user's most recently active conversation on any channel."""
    query = select(Conversation).where(Conversation.user_id == user_id)
    return await session.scalar(query.order_by(Conversation.last_activity.desc()).limit(1))


async def create_conversation(
    session: AsyncSession,
    *,
    user_id: str,
    conversation_id: uuid.UUID | None = None,
    external_id: str | None = None,
    channel: str = "api",
) -> Conversation:
    """Start a conversation (with a chosen id, so a turn can name it before it is stored)."""
    row = Conversation(
        id=conversation_id or uuid.uuid4(),
        user_id=user_id,
        external_id=external_id,
        channel=channel,
    )
    session.add(row)
    await session.flush()
    return row


async def list_conversations(
    session: AsyncSession, *, user_id: str, limit: int = 50, offset: int = 0
) -> Sequence[Conversation]:
    """The user's conversations, most recent first."""
    query = (
        select(Conversation)
        .where(Conversation.user_id == user_id)
        .order_by(Conversation.last_activity.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(query)).all()


async def add_message(
    session: AsyncSession,
    *,
    user_id: str,
    conversation_id: uuid.UUID,
    role: str,
    content: str,
    speaker: str | None = None,
    external_id: str | None = None,
    created_at: datetime | None = None,
) -> Message:
    """Append a message to the user's conversation and bump its activity."""
    row = Message(
        user_id=user_id,
        conversation_id=conversation_id,
        role=role,
        content=content,
        speaker=speaker,
        external_id=external_id,
    )
    if created_at is not None:
        row.created_at = created_at
    session.add(row)
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.user_id == user_id)
        .values(
            message_count=Conversation.message_count + 1,
            last_activity=func.greatest(Conversation.last_activity, created_at or func.now()),
        )
    )
    await session.flush()
    return row


#: The conversation's activity bump (which is also the check that it is the user's)
#: and the message it counts, in one statement: the insert reads the bumped row, so
#: nothing is inserted for a conversation that is not the user's.
_CONVERSATIONS = cast(Table, Conversation.__table__)
_MESSAGES = cast(Table, Message.__table__)
_BUMPED = (
    update(_CONVERSATIONS)
    .where(
        _CONVERSATIONS.c.id == bindparam("conversation", type_=UUID(as_uuid=True)),
        _CONVERSATIONS.c.user_id == bindparam("owner", type_=String),
    )
    .values(
        message_count=_CONVERSATIONS.c.message_count + 1,
        last_activity=func.greatest(_CONVERSATIONS.c.last_activity, func.now()),
    )
    .returning(_CONVERSATIONS.c.message_count)
    .cte("bumped")
)


def _message_from_bump() -> Insert:
    """The message ``INSERT`` that selects from ``bumped``, so the message is written
    only when the conversation is the user's."""
    return insert(_MESSAGES).from_select(
        ["user_id", "conversation_id", "role", "content", "speaker", "external_id"],
        select(
            bindparam("owner", type_=String),
            bindparam("conversation", type_=UUID(as_uuid=True)),
            bindparam("message_role", type_=String),
            bindparam("message_content", type_=Text),
            bindparam("message_speaker", type_=String),
            bindparam("message_external_id", type_=String),
        ).select_from(_BUMPED),
    )


_APPEND = driver.DriverStatement(
    "a message and its conversation's count",
    _message_from_bump().returning(
        _MESSAGES.c.id, select(_BUMPED.c.message_count).scalar_subquery()
    ),
)


#: ``_APPEND`` as a CTE named ``asked`` (the new message's id as ``id``), for a statement
#: that goes on from the message (the turn's start); the same bound parameters.
APPENDED = _message_from_bump().returning(_MESSAGES.c.id).cte("asked")


async def append_message(
    session: AsyncSession,
    *,
    user_id: str,
    conversation_id: uuid.UUID,
    role: str,
    content: str,
    speaker: str | None = None,
    external_id: str | None = None,
) -> tuple[int, int]:
    """``add_message`` for the turn path: ``(message id, the conversation's message count)``.

    One statement and no ORM objects: the activity bump doubles as the check that the
    conversation is the user's (``NotFound`` otherwise, and nothing is written).
    """
    row = await driver.fetchrow(
        session,
        _APPEND,
        {
            "owner": user_id,
            "conversation": conversation_id,
            "message_role": role,
            "message_content": content,
            "message_speaker": speaker,
            "message_external_id": external_id,
        },
    )
    if row is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return int(row[0]), int(row[1])


async def list_messages(
    session: AsyncSession,
    *,
    user_id: str,
    conversation_id: uuid.UUID,
    limit: int = 100,
    before_id: int | None = None,
) -> Sequence[Message]:
    """The newest ``limit`` messages of the user's conversation, oldest first."""
    query = select(Message).where(
        Message.user_id == user_id, Message.conversation_id == conversation_id
    )
    if before_id is not None:
        query = query.where(Message.id < before_id)
    rows = (await session.scalars(query.order_by(Message.id.desc()).limit(limit))).all()
    return list(reversed(rows))


async def mark_short_term_reset(
    session: AsyncSession, *, user_id: str, conversation_id: uuid.UUID
) -> None:
    """Record that short-term context restarts now (messages stay in history)."""
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.user_id == user_id)
        .values(short_term_reset_at=func.now())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"conversation {conversation_id} not found")
