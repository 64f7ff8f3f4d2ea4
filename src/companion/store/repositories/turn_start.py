"""The first read of a known user's turn: their standing and the turn's conversation.

One select, so that it can be read in the same statement as the companion's state
(``PersonalityPort.stored_state_alongside``): three reads in one round trip and one
implicit transaction instead of three (each autocommit statement is a transaction of
its own on the server). It answers no row for a user not stored yet; a user with no
such conversation gets ``None`` for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, Table, bindparam, null, select, true

from companion.store import driver
from companion.store.models import User
from companion.store.repositories import conversations
from companion.store.repositories.conversations import ConversationRef

__all__ = ["COLUMNS", "TurnStart", "turn_start", "turn_start_read"]

_USERS = cast(Table, User.__table__)
#: How many columns the select has (the caller's reads follow them).
COLUMNS = 4


def _with(found: Select[Any] | None) -> Select[Any]:
    head = (_USERS.c.security_level, _USERS.c.status)
    if found is None:  # a new conversation: nothing to find
        return select(
            *head, null().label("conversation_id"), null().label("short_term_reset_at")
        ).where(_USERS.c.id == bindparam("owner"))
    conversation = found.lateral("conversation")
    return (
        select(
            *head,
            conversation.c.id.label("conversation_id"),
            conversation.c.short_term_reset_at,
        )
        .select_from(_USERS.outerjoin(conversation, true()))
        .where(_USERS.c.id == bindparam("owner"))
    )


#: The select of a turn that starts a new conversation (nothing to find).
_NEW = _with(None)


class TurnStart(NamedTuple):
    """What the turn's first read found of a stored user."""

    #: ``(security_level, status)``.
    standing: tuple[int, str]
    #: The conversation found (``None``: none, or none looked for).
    conversation: ConversationRef | None


def turn_start_read(
    *,
    user_id: str,
    conversation_id: uuid.UUID | None,
    external_id: str | None,
    channel: str | None,
    new_conversation: bool,
) -> tuple[Select[Any], dict[str, Any]]:
    """The select and its values; the conversation is found as ``conversation_ref``
    (by id) or ``find_conversation_ref`` would, or not looked for when the turn starts a
    new one without an external id."""
    if conversation_id is None and new_conversation and external_id is None:
        return _NEW, {"owner": user_id}
    found, params = conversations.conversation_ref_read(
        user_id=user_id,
        conversation_id=conversation_id,
        external_id=external_id,
        channel=None if new_conversation else channel,
    )
    # Built once per way of finding the conversation: the caller keeps each compiled
    # by its identity.
    return driver.made_from(found, "turn start", _with), params


def turn_start(values: Sequence[Any]) -> TurnStart:
    """The select's row (its first ``COLUMNS`` values) as a ``TurnStart``."""
    level, status, conversation, reset = values[:COLUMNS]
    ref = None if conversation is None else ConversationRef(conversation, reset)
    return TurnStart((int(level), str(status)), ref)
