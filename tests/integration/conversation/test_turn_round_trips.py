"""Round trips of the turn path: statements and transactions from message to reply.

Counted with SQLAlchemy's ``before_cursor_execute`` and ``begin`` events while the
real pipeline (real personality, memory and security services over the real
database, a scripted chat model) answers turns of users it already knows, in a
conversation that continues; the queued memory work is not run meanwhile, so only
the turn path is counted. A ``begin`` on an autocommit connection sends nothing to
the server and is not counted. The counts do not depend on load, so a change that
adds a round trip to every turn fails here. Before this work the same turns took
30.1 statements in 6 transactions; now 11 in 1 (docs/SCALING.md, "What one turn
costs").

The hottest statements run straight on asyncpg (``companion.store.driver``), which
reports them to the same event. So that the count cannot miss a statement sent
around SQLAlchemy, asyncpg's own query log (which sees what is run on the driver
connection directly, not SQLAlchemy's prepared statements) is checked against it:
every statement asyncpg ran directly, BEGIN/COMMIT aside, must have been counted.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from asyncpg import introspection
from sqlalchemy import event, func, select
from tests.fakes.conversation_ports import FakeChat
from tests.fakes.gateway import clone_runtime

from companion.conversation.types import TurnRequest
from companion.personality.models import PersonalityState
from companion.runtime import Runtime
from companion.store.models import CompanionProfile, Conversation, Interaction, Message, User
from companion.store.repositories import users

TEXTS = [
    "Hi! How was your day?", "I went for a long walk by the river this morning.",
    "My sister is visiting next weekend, I'm a bit nervous.",
    "What do you think I should cook for her?", "I love that idea, thank you!",
]  # fmt: skip
USERS = 2
ROUNDS = 2
TRANSACTION = {"BEGIN", "COMMIT", "ROLLBACK"}
INTROSPECTION = {
    introspection.INTRO_LOOKUP_TYPES,
    introspection.INTRO_LOOKUP_TYPES_13,
    introspection.TYPE_BY_NAME,
}


@pytest.fixture
def real(runtime: Runtime) -> Runtime:
    """The test runtime's real services with a scripted chat model."""
    return clone_runtime(runtime, chat=FakeChat())


async def test_a_turn_takes_few_round_trips(real: Runtime) -> None:
    service = real.conversation
    conversations = {}
    for user in range(USERS):  # first contact: the user, the companion, the conversation
        first = await service.turn(
            TurnRequest(user_id=f"tt{user}", text="Hello! I love walking by the river.")
        )
        conversations[user] = first.conversation_id
    await service.drain()  # their memory work: the turns below retrieve a memory each
    statements: list[str] = []
    transactions = [0]

    def on_execute(*args: Any) -> None:
        statements.append(str(args[2]))

    def on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            transactions[0] += 1

    direct: list[str] = []  # run on the asyncpg connection itself, as asyncpg logs them
    logged: set[Any] = set()

    def on_query(query: Any) -> None:
        # BEGIN/COMMIT (counted by the begin event) and asyncpg's reading of a type's
        # description the first time a connection meets it (with JIT off around it;
        # SQLAlchemy's prepared statements make the same reads, unlogged) are not the
        # code's statements.
        transaction = query.query.split(None, 1)[0].rstrip(";").upper() in TRANSACTION
        introspecting = query.query in INTROSPECTION or "set_config('jit'" in query.query
        if not transaction and not introspecting:
            direct.append(query.query)

    def on_checkout(dbapi_connection: Any, *args: Any) -> None:
        raw = dbapi_connection.driver_connection
        if raw not in logged:
            logged.add(raw)
            raw.add_query_logger(on_query)

    engine = real.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "begin", on_begin)
    event.listen(engine.pool, "checkout", on_checkout)
    try:
        for _ in range(ROUNDS):
            for text_ in TEXTS:
                for user in range(USERS):
                    result = await service.turn(
                        TurnRequest(
                            user_id=f"tt{user}",
                            text=text_,
                            conversation_id=conversations[user],
                        )
                    )
                    assert result.error is None and result.reply
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "begin", on_begin)
        event.remove(engine.pool, "checkout", on_checkout)
        for raw in logged:
            raw.remove_query_logger(on_query)
    turns = USERS * ROUNDS * len(TEXTS)
    # Every statement sent around SQLAlchemy was counted too (none escapes the count),
    # and some were: the driver path is in use.
    assert direct
    assert not Counter(direct) - Counter(statements), Counter(direct) - Counter(statements)
    per_turn = len(statements) / turns
    transactions_per_turn = transactions[0] / turns
    print(f"\nper turn: {per_turn:.2f} statements, {transactions_per_turn:.2f} transactions")
    # Per turn: the read of the user, the conversation and the persona (one
    # statement), the search and the access statistics, and the user's message with
    # its work item, each in autocommit; the reply with the mood in the one write
    # transaction.
    assert per_turn <= 9, statements
    assert transactions_per_turn <= 1
    accessed = sum(s.startswith("INSERT INTO memory_access") for s in statements)
    assert accessed == turns  # memories were found and counted, so that path is in
    # What the turns stored: both lines of each, a mood row per turn.
    await service.drain()
    async with real.db.session() as session:
        stored = await session.scalar(select(func.count()).select_from(Interaction))
        lines = await session.scalar(select(func.count()).select_from(Message))
        moods = await session.scalar(
            select(func.count())
            .select_from(PersonalityState)
            .where(PersonalityState.trigger_event == "turn")
        )
    assert stored == turns + USERS
    assert lines == 2 * (turns + USERS)
    assert moods == turns + USERS


async def test_first_contacts_create_their_rows_at_once(real: Runtime) -> None:
    """A known user's reads create nothing; a first contact, even one whose user row
    exists without a companion, still creates each row once while others do the same."""
    service = real.conversation
    async with real.db.transaction() as session:  # a user stored without a companion
        await users.ensure_user(session, user_id="fc:stored")
    ids = ["fc:stored", "fc:a", "fc:b", "fc:c"]
    first = await asyncio.gather(
        *(service.turn(TurnRequest(user_id=u, text="Hello there, nice to meet you!")) for u in ids)
    )
    assert all(r.reply and r.error is None for r in first)
    again = await asyncio.gather(
        *(
            service.turn(
                TurnRequest(user_id=u, text="Me again.", conversation_id=r.conversation_id)
            )
            for u, r in zip(ids, first, strict=True)
        )
    )
    assert all(r.reply and r.error is None for r in again)
    await service.drain()
    async with real.db.session() as session:
        for model in (User, CompanionProfile, Conversation):
            owner = model.id if model is User else model.user_id
            rows = (
                await session.execute(
                    select(owner, func.count()).where(owner.in_(ids)).group_by(owner)
                )
            ).all()
            assert dict(rows) == dict.fromkeys(ids, 1), (model, rows)
        current = (
            await session.execute(
                select(PersonalityState.user_id, func.count())
                .where(PersonalityState.user_id.in_(ids), PersonalityState.is_current)
                .group_by(PersonalityState.user_id)
            )
        ).all()
        assert dict(current) == dict.fromkeys(ids, 1)
