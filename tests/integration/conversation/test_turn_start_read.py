"""The turn's first read as one statement, and the line before a turn past flagged turns.

A known user's turn reads their standing, the conversation and the companion's state in
ONE statement (``turn_start`` with ``stored_state_alongside``); it must find what the
separate reads find, for every way a turn names its conversation, and find nothing of
a user not stored yet (the first contact's transaction then creates them). The memory
work's "line before the turn" (``recent.MESSAGE_BEFORE``) reads the flagged turns'
message ids once instead of probing for each message; it must still skip their lines.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import update
from tests.fakes.conversation_ports import FakeChat
from tests.fakes.gateway import clone_runtime

from companion.conversation.types import TurnRequest
from companion.errors import InvalidInput, NotFound
from companion.memory.writer import turn_contexts
from companion.personality.service import PersonalityService
from companion.runtime import Runtime
from companion.store.models import Interaction
from companion.store.repositories import conversations, recent, turn_start, users

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


@pytest.fixture
def real(runtime: Runtime) -> Runtime:
    """The test runtime's real services with a scripted chat model."""
    return clone_runtime(runtime, chat=FakeChat())


async def _one_read(
    real: Runtime, user_id: str, **how: object
) -> tuple[turn_start.TurnStart, object] | None:
    personality = real.personality
    assert isinstance(personality, PersonalityService)
    lead, params = turn_start.turn_start_read(
        user_id=user_id,
        conversation_id=how.get("conversation_id"),  # type: ignore[arg-type]
        external_id=how.get("external_id"),  # type: ignore[arg-type]
        channel=how.get("channel"),  # type: ignore[arg-type]
        new_conversation=bool(how.get("new_conversation", False)),
    )
    async with real.db.autocommit() as conn:
        found = await personality.stored_state_alongside(
            user_id=user_id,
            conn=conn,
            lead=lead,
            params=params,
            columns=turn_start.COLUMNS,
            now=NOW,
        )
    return None if found is None else (turn_start.turn_start(found[0]), found[1])


async def test_one_read_finds_what_the_separate_reads_find(real: Runtime) -> None:
    service = real.conversation
    first = await service.turn(TurnRequest(user_id="ts:a", text="Hello! I like rivers."))
    other = await service.turn(TurnRequest(user_id="ts:b", text="Hi there."))
    await service.turn(
        TurnRequest(user_id="ts:a", text="A side chat.", external_conversation_id="side")
    )
    personality = real.personality
    assert isinstance(personality, PersonalityService)
    async with real.db.autocommit() as conn:
        standing = await users.standing(conn, user_id="ts:a")
        state = await personality.stored_state(user_id="ts:a", conn=conn, now=NOW)
        on_api = await conversations.find_conversation_ref(conn, user_id="ts:a", channel="api")
        side = await conversations.find_conversation_ref(conn, user_id="ts:a", external_id="side")
        by_id = await conversations.conversation_ref(
            conn, user_id="ts:a", conversation_id=first.conversation_id
        )
    assert standing is not None and state is not None and side is not None
    cases = [
        ({"channel": "api"}, on_api),
        ({"external_id": "side"}, side),
        ({"conversation_id": first.conversation_id}, by_id),
        ({"new_conversation": True, "external_id": "side"}, side),
        ({"new_conversation": True, "channel": "api"}, None),
        ({"external_id": "never-used"}, None),
        # another user's conversation is not found (per-user isolation)
        ({"conversation_id": other.conversation_id}, None),
    ]
    for how, expected in cases:
        found = await _one_read(real, "ts:a", **how)
        assert found is not None, how
        start, one_state = found
        assert start.standing == standing, how
        assert start.conversation == expected, how
        assert one_state == state, how


async def test_first_contact_and_a_user_without_companion(real: Runtime) -> None:
    assert await _one_read(real, "ts:nobody", channel="api") is None
    async with real.db.transaction() as session:
        await users.ensure_user(session, user_id="ts:bare")
    found = await _one_read(real, "ts:bare", channel="api")
    assert found is not None
    start, state = found
    assert start.standing[1] == "active" and start.conversation is None and state is None
    # The turn then creates the companion and the conversation, once.
    result = await real.conversation.turn(TurnRequest(user_id="ts:bare", text="Hello!"))
    assert result.reply and result.error is None
    again = await _one_read(real, "ts:bare", channel="api")
    assert again is not None and again[1] is not None
    assert again[0].conversation is not None
    assert again[0].conversation.id == result.conversation_id


async def test_the_turn_refuses_what_it_refused_before(real: Runtime) -> None:
    service = real.conversation
    await service.turn(TurnRequest(user_id="ts:c", text="Hello!", external_conversation_id="kept"))
    with pytest.raises(InvalidInput):
        await service.turn(
            TurnRequest(
                user_id="ts:c",
                text="Again.",
                external_conversation_id="kept",
                new_conversation=True,
            )
        )
    with pytest.raises(NotFound):
        await service.turn(TurnRequest(user_id="ts:c", text="Where?", conversation_id=uuid.uuid4()))
    with pytest.raises(NotFound):  # a first contact naming a conversation creates nothing
        await service.turn(
            TurnRequest(user_id="ts:new", text="Where?", conversation_id=uuid.uuid4())
        )


async def test_the_line_before_skips_flagged_turns(runtime: Runtime) -> None:
    chat = FakeChat()
    chat.enqueue("Reply one.", "Reply two.", "Reply three.")
    real = clone_runtime(runtime, chat=chat)
    service = real.conversation
    said = ["The first thing.", "The second thing.", "The third thing."]
    results = []
    conversation_id = None
    for text_ in said:
        result = await service.turn(
            TurnRequest(user_id="ts:f", text=text_, conversation_id=conversation_id)
        )
        conversation_id = result.conversation_id
        results.append(result)
    await service.drain()
    assert conversation_id is not None
    async with real.db.session() as session:
        rows = (
            await session.execute(
                Interaction.__table__.select()
                .where(Interaction.user_id == "ts:f")
                .order_by(Interaction.id)
            )
        ).all()
    assert len(rows) == 3
    last_asked = rows[2].user_message_id
    second_reply = rows[1].reply_message_id

    async def line_before() -> str | None:
        async with real.db.session() as session:
            return await recent.message_before(
                session,
                user_id="ts:f",
                conversation_id=conversation_id,
                before_message_id=last_asked,
            )

    async def previous() -> str | None:  # the memory work's batch read of the same
        record = SimpleNamespace(
            user_id="ts:f", conversation_id=conversation_id, user_message_id=last_asked
        )
        async with real.db.session() as session:
            found = await turn_contexts(session, [record], limit=3)  # type: ignore[list-item]
        return found[0].previous

    unflagged = await line_before()
    assert [r.reply for r in results] == ["Reply one.", "Reply two.", "Reply three."]
    assert unflagged == "Reply two."
    assert await previous() == unflagged
    async with real.db.transaction() as session:  # the second turn flagged
        await session.execute(
            update(Interaction)
            .where(Interaction.id == rows[1].id)
            .values(security_check_passed=False)
        )
    skipped = await line_before()
    assert skipped == "Reply one."  # both lines of the second turn are skipped
    assert await previous() == skipped
    assert second_reply is not None
    # Unflagged again: its lines are back.
    async with real.db.transaction() as session:
        await session.execute(
            update(Interaction)
            .where(Interaction.id == rows[1].id)
            .values(security_check_passed=True)
        )
    assert await line_before() == unflagged
