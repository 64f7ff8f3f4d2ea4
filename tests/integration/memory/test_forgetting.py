"""Forgetting is complete: derived facts, summaries and conflicts go with a memory;
retention covers messages and interactions; the export lists what is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from companion.errors import NotFound
from companion.memory import ImportMessage, MemoryService
from companion.memory.jobs import consolidate, retention_cleanup
from companion.memory.models import Memory, MemoryConflict
from companion.store.models import Interaction, Message
from companion.store.repositories import conversations, interactions, users
from companion.store.retention import delete_expired


def _msgs(*texts: str, day: int = 1, speaker: str = "Ana") -> list[ImportMessage]:
    at = datetime(2025, 3, day, 9, tzinfo=UTC)
    return [
        ImportMessage(f"{day}-{i}", "user", speaker, t, at + timedelta(minutes=i))
        for i, t in enumerate(texts)
    ]


async def _memories(runtime: Any, user_id: str = "u1") -> list[Memory]:
    async with runtime.db.session() as session:
        query = select(Memory).where(Memory.user_id == user_id).order_by(Memory.created_at)
        return list((await session.scalars(query)).all())


def _episodic(rows: list[Memory], needle: str) -> Memory:
    return next(m for m in rows if m.memory_type == "episodic" and needle in m.content)


async def test_forgetting_a_turn_removes_the_facts_derived_only_from_it(runtime: Any) -> None:
    memory: MemoryService = runtime.memory
    await memory.import_history(
        user_id="u1", conversation="c",
        messages=_msgs("My brother Tiago is a pilot in Madrid.", "I love green tea."),
    )  # fmt: skip
    rows = await _memories(runtime)
    turn = _episodic(rows, "Tiago")
    derived = [m for m in rows if turn.id in m.source_memory_ids]
    assert derived and all("Tiago" in m.content for m in derived)  # the fixture is sound

    counts = await memory.forget(user_id="u1", memory_id=turn.id)

    assert counts["memories"] == 1 and counts["derived_facts"] == len(derived)
    left = "\n".join(m.content for m in await _memories(runtime))
    assert "Tiago" not in left and "green tea" in left
    with pytest.raises(NotFound):
        await memory.forget(user_id="u1", memory_id=turn.id)


async def test_a_fact_said_twice_stays_when_one_turn_is_forgotten(runtime: Any) -> None:
    memory: MemoryService = runtime.memory
    await memory.import_history(
        user_id="u1", conversation="c", messages=_msgs("I live in Lisbon.", day=1)
    )
    await memory.import_history(
        user_id="u1", conversation="c", messages=_msgs("I live in Lisbon.", day=2)
    )
    rows = await _memories(runtime)
    first = min((m for m in rows if m.memory_type == "episodic"), key=lambda m: m.created_at)
    facts = [m for m in rows if m.memory_type == "semantic" and "Lisbon" in m.content]
    assert len(facts) == 1 and len(facts[0].source_memory_ids) == 2  # merged, both turns

    counts = await memory.forget(user_id="u1", memory_id=first.id)

    assert counts["derived_facts"] == 0
    (kept,) = [m for m in await _memories(runtime) if m.memory_type == "semantic"]
    assert kept.id == facts[0].id and first.id not in kept.source_memory_ids


async def test_forgetting_a_source_of_a_summary_deletes_it_for_rebuilding(runtime: Any) -> None:
    memory: MemoryService = runtime.memory
    garden = (
        "My tomato plants in the garden are growing fast.",
        "I love the tomatoes growing in my garden.",
        "My garden tomatoes are growing well.",
        "My tomato garden is growing nicely this week.",
    )
    await memory.import_history(user_id="u1", conversation="c", messages=_msgs(*garden))
    assert (await consolidate(runtime.db, fast=runtime.models.fast))["semantic_created"] == 1
    rows = await _memories(runtime)
    summary = next(m for m in rows if m.extra.get("method") == "consolidation")
    used = set(summary.source_memory_ids)
    forgotten = next(m for m in rows if m.id in used)

    counts = await memory.forget(user_id="u1", memory_id=forgotten.id)

    assert counts["summaries"] == 1
    after = {m.id: m for m in await _memories(runtime)}
    assert summary.id not in after and forgotten.id not in after
    released = [after[i] for i in used if i in after]
    assert released and all(m.consolidated_into is None for m in released)
    # The nightly consolidation rebuilds a summary from what is left.
    await consolidate(runtime.db, fast=runtime.models.fast)
    rebuilt = [m for m in await _memories(runtime) if m.extra.get("method") == "consolidation"]
    assert len(rebuilt) == 1 and forgotten.id not in rebuilt[0].source_memory_ids


async def test_forgetting_a_superseded_fact_removes_the_conflict_quoting_it(runtime: Any) -> None:
    memory: MemoryService = runtime.memory
    await memory.import_history(user_id="u1", conversation="c", messages=_msgs("I work at Acme."))
    await memory.import_history(
        user_id="u1", conversation="c", messages=_msgs("I work at Initech now.", day=20)
    )
    rows = await _memories(runtime)
    old_turn = _episodic(rows, "Acme")
    async with runtime.db.session() as session:
        quoted = await session.scalar(select(func.count()).select_from(MemoryConflict))
    assert quoted == 1

    counts = await memory.forget(user_id="u1", memory_id=old_turn.id)

    assert counts["conflicts"] == 1
    async with runtime.db.session() as session:
        conflicts = (await session.scalars(select(MemoryConflict.description))).all()
    assert not any("Acme" in c for c in conflicts)
    left = "\n".join(m.content for m in await _memories(runtime))
    assert "Acme" not in left and "Initech" in left


async def test_forgetting_someone_elses_memory_is_not_found_and_changes_nothing(
    runtime: Any,
) -> None:
    memory: MemoryService = runtime.memory
    await memory.import_history(user_id="u1", conversation="c", messages=_msgs("I have a cat."))
    theirs = _episodic(await _memories(runtime), "cat")
    with pytest.raises(NotFound):
        await memory.forget(user_id="u2", memory_id=theirs.id)
    assert len(await _memories(runtime)) >= 1


async def test_clear_of_a_conversation_takes_its_summaries_along(runtime: Any) -> None:
    memory: MemoryService = runtime.memory
    garden = (
        "My tomato plants in the garden are growing fast.",
        "I love the tomatoes growing in my garden.",
        "My garden tomatoes are growing well.",
    )
    await memory.import_history(user_id="u1", conversation="c", messages=_msgs(*garden))
    await consolidate(runtime.db, fast=runtime.models.fast)
    conversation = _episodic(await _memories(runtime), "tomato").conversation_id
    assert conversation is not None
    await memory.clear(user_id="u1", conversation_id=conversation)
    assert [m.content for m in await _memories(runtime)] == []


async def test_retention_deletes_old_messages_interactions_and_memories(runtime: Any) -> None:
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    async with runtime.db.transaction() as session:
        for user_id in ("old-timer", "keeper"):
            await users.ensure_user(session, user_id=user_id)
        await session.execute(
            text("UPDATE users SET data_retention_days = 30 WHERE id = 'old-timer'")
        )
        for user_id in ("old-timer", "keeper"):
            conv = await conversations.get_or_create_conversation(session, user_id=user_id)
            for at, said in ((old, "my old secret"), (recent, "my new news")):
                msg = await conversations.add_message(
                    session, user_id=user_id, conversation_id=conv.id, role="user",
                    content=said, created_at=at,
                )  # fmt: skip
                await interactions.record_interaction(
                    session, user_id=user_id, timestamp=at, session_id=conv.id,
                    user_message_id=msg.id, user_message=said, agent_response="noted",
                )  # fmt: skip
    memory: MemoryService = runtime.memory
    await memory.import_history(
        user_id="old-timer", conversation="c", messages=_msgs("My old secret is the key.")
    )
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Memory).where(Memory.user_id == "old-timer").values(created_at=old)
        )

    counts = await delete_expired(runtime.db, now=now)
    memories = await retention_cleanup(runtime.db, now=now)

    # The old message, its interaction and the imported (2025) message are past 30 days.
    assert counts["messages_deleted"] == 2 and counts["interactions_deleted"] == 1
    assert memories["deleted"] >= 1
    async with runtime.db.session() as session:
        said = (await session.execute(select(Message.user_id, Message.content))).all()
        turns = (await session.execute(select(Interaction.user_id, Interaction.user_message))).all()
    assert sorted(said) == sorted(
        [("old-timer", "my new news"), ("keeper", "my old secret"), ("keeper", "my new news")]
    )
    assert ("old-timer", "my old secret") not in turns and len(turns) == 3
    assert await _memories(runtime, "old-timer") == []
    again = await delete_expired(runtime.db, now=now)
    assert again["messages_deleted"] == 0 and again["interactions_deleted"] == 0


async def test_export_lists_what_is_kept_including_the_short_term_buffer(runtime: Any) -> None:
    memory: MemoryService = runtime.memory
    async with runtime.db.transaction() as session:
        await users.ensure_user(session, user_id="u1")
        conv = await conversations.get_or_create_conversation(session, user_id="u1")
        await conversations.add_message(
            session, user_id="u1", conversation_id=conv.id, role="user", content="hello there"
        )
    await memory.buffer.push("u1", conv.id, "user", "hello there", datetime.now(UTC))
    await memory.import_history(user_id="u1", conversation="c", messages=_msgs("I have a cat."))

    exported = await memory.export(user_id="u1")

    assert exported["short_term"][str(conv.id)] == [{"role": "user", "content": "hello there"}]
    kept = exported["kept"]
    assert kept["short_term_turns"] == 1
    for table, rows in exported["tables"].items():
        assert kept.get(table, 0) == len(rows)
    assert kept["messages"] >= 2 and kept["memories"] >= 1
