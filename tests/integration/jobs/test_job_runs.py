"""Jobs run for a period exactly once per user: a rerun changes nothing, a crash resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from companion.conversation.ports import TurnRecord
from companion.errors import InvalidInput
from companion.jobs import JobRunner
from companion.store.models import JobRun, JobUserMark
from companion.store.repositories import conversations, interactions, users
from companion.types import PAD

NOW = datetime.now(UTC).replace(microsecond=0)
USERS = ["api:ann", "api:ben", "api:cat"]
TEXTS = [
    "My dog Rex loves the beach and chasing the ball",
    "Rex my dog went swimming at the beach today",
    "Took my dog Rex to the beach again, he loves the ball",
]


async def _world(runtime: Any) -> None:
    for user_id in USERS:
        async with runtime.db.transaction() as session:
            await users.ensure_user(session, user_id=user_id)
            # A real conversation: a made-up id fails the memory write (foreign key).
            conversation = await conversations.get_or_create_conversation(session, user_id=user_id)
        await runtime.personality.load_state(user_id=user_id, now=NOW - timedelta(days=2))
        async with runtime.db.transaction() as session:
            conversation = await conversations.create_conversation(session, user_id=user_id)
        for i, said in enumerate(TEXTS):
            at = NOW - timedelta(hours=30 - i)
            async with runtime.db.transaction() as session:
                asked = await conversations.add_message(
                    session, user_id=user_id, conversation_id=conversation.id, role="user",
                    content=said, created_at=at,
                )  # fmt: skip
                row = await interactions.record_interaction(
                    session,
                    user_id=user_id,
                    timestamp=at,
                    user_message=said,
                    user_message_id=asked.id,
                    agent_response="That sounds lovely!!",
                    pad_after={"pleasure": 0.6},
                )
            await runtime.memory.remember_turn(
                TurnRecord(
                    user_id=user_id,
                    conversation_id=conversation.id,
                    interaction_id=row.id,
                    user_message_id=asked.id,
                    reply_message_id=0,
                    user_text=said,
                    reply_text="That sounds lovely!!",
                    created_at=at,
                    pad_before=PAD(),
                    pad_after=PAD(0.6, 0.1, 0.0),
                    emotion="joy",
                    flagged=False,
                )
            )


_SNAPSHOT = {
    "personality_state": "SELECT count(*), coalesce(sum(pleasure + arousal), 0) "
    "FROM personality_state",
    "memories": "SELECT count(*), coalesce(sum(importance), 0), "
    "count(consolidated_into) FROM memories",
    "memory_access": "SELECT count(*), coalesce(sum(recency_score), 0) FROM memory_access",
    "quirks": "SELECT count(*), coalesce(sum(strength), 0) FROM quirks",
    "needs": "SELECT count(*), coalesce(sum(current_level), 0) FROM needs",
    "style": "SELECT count(*) FROM style_trait_versions",
    "marks": "SELECT count(*) FROM job_user_marks",
}


async def _snapshot(runtime: Any) -> dict[str, Any]:
    async with runtime.db.session() as session:
        return {k: tuple((await session.execute(text(q))).one()) for k, q in _SNAPSHOT.items()}


async def test_running_jobs_twice_for_a_period_changes_nothing(runtime: Any) -> None:
    await _world(runtime)
    runner = JobRunner(runtime, batch_size=2, pause=0)
    first = {name: await runner.run(name, now=NOW) for name in ("reflection", "needs")}
    assert first["reflection"]["status"] == "succeeded" and first["reflection"]["users"] == 3
    assert first["needs"]["users"] == 3
    for name in ("recency_decay", "conflict_scan", "proactive_check"):
        assert (await runner.run(name, now=NOW))["status"] == "succeeded"
    before = await _snapshot(runtime)

    for name in ("reflection", "needs", "recency_decay", "conflict_scan", "proactive_check"):
        again = await runner.run(name, now=NOW)
        assert again["status"] == "skipped", name
    assert await _snapshot(runtime) == before
    async with runtime.db.session() as session:
        runs = (await session.scalars(select(JobRun).where(JobRun.job_name == "reflection"))).all()
    assert len(runs) == 1 and runs[0].users_processed == 3 and runs[0].finished_at is not None
    assert runs[0].counts["errors"] == 0


async def test_a_crashed_run_resumes_with_the_remaining_users(runtime: Any) -> None:
    await _world(runtime)
    period = f"{NOW:%Y-%m-%d}"
    async with runtime.db.transaction() as session:  # the crashed run had finished ann
        session.add(JobRun(job_name="reflection", period_key=period, status="running"))
        session.add(JobUserMark(job_name="reflection", period_key=period, user_id="api:ann"))
    result = await JobRunner(runtime, batch_size=1, pause=0).run("reflection", now=NOW)
    assert result["status"] == "succeeded" and result["users"] == 2
    async with runtime.db.session() as session:
        statuses = sorted(
            await session.scalars(select(JobRun.status).where(JobRun.job_name == "reflection"))
        )
    assert statuses == ["abandoned", "succeeded"]


async def test_unknown_job_names_the_known_ones(runtime: Any) -> None:
    with pytest.raises(InvalidInput, match="reflection"):
        await JobRunner(runtime).run("nightly")
