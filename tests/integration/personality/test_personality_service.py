"""The personality service on the real database: creation, versioning, jobs, idempotency."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql
from tests.integration.personality.personality_helpers import converse, log_interaction, turn

from companion.conversation.ports import PersonalityPort
from companion.personality import jobs
from companion.personality.models import Need, PersonalityState, StyleTraitVersion
from companion.store.models import CompanionProfile
from companion.types import PAD

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)


async def _count(runtime: object, model: type, user_id: str) -> int:
    async with runtime.db.transaction() as session:  # type: ignore[attr-defined]
        return int(
            await session.scalar(
                select(func.count()).select_from(model).where(model.user_id == user_id)
            )
        )


async def test_first_contact_creates_everything_once_under_concurrency(runtime: object) -> None:
    service = runtime.personality  # type: ignore[attr-defined]
    assert isinstance(service, PersonalityPort)
    states = await asyncio.gather(*(service.load_state(user_id="u:c", now=T0) for _ in range(6)))
    assert {s.snapshot_id for s in states} == {states[0].snapshot_id}
    assert states[0].preset == "curious_companion"
    assert states[0].needs == dict.fromkeys(
        ["creative", "intellectual", "rest", "social", "validation"], 0.5
    )
    for model, expected in (
        (CompanionProfile, 1),
        (PersonalityState, 1),
        (Need, 5),
        (StyleTraitVersion, 1),
    ):
        assert await _count(runtime, model, "u:c") == expected, model


async def test_every_turn_is_a_new_current_row_and_history_is_complete(runtime: object) -> None:
    service = runtime.personality  # type: ignore[attr-defined]
    texts = ["I got a new puppy!", "I failed my exam", "thank you", "my friend visited"]
    for i, text in enumerate(texts):
        await converse(runtime, "u:h", text, "I see.", at=T0 + timedelta(minutes=i))
    history = await service.history(user_id="u:h", limit=100)
    assert [h["trigger_event"] for h in history] == ["turn"] * 4 + ["created"]
    assert [h["is_current"] for h in history] == [True] + [False] * 4
    big_fives = {tuple(h["big_five"].values()) for h in history}
    assert len(big_fives) == 1  # the Big Five never change
    page = await service.history(user_id="u:h", limit=2, offset=2)
    assert [h["id"] for h in page] == [h["id"] for h in history[2:4]]


async def test_concurrent_turns_keep_exactly_one_current_row(runtime: object) -> None:
    service = runtime.personality  # type: ignore[attr-defined]
    state = await service.load_state(user_id="u:r", now=T0)
    records = [
        turn(
            "u:r",
            "hello",
            "hi",
            at=T0 + timedelta(seconds=i),
            before=state.pad,
            after=PAD(0.1 * i, 0, 0),
        )
        for i in range(5)
    ]
    await asyncio.gather(*(service.after_turn(r) for r in records))
    history = await service.history(user_id="u:r")
    assert len(history) == 6 and sum(h["is_current"] for h in history) == 1


async def test_drift_keeps_current_pad_and_is_idempotent(runtime: object) -> None:
    service = runtime.personality  # type: ignore[attr-defined]
    state = await service.load_state(user_id="u:d", now=T0)
    for i in range(5):
        await log_interaction(
            runtime, "u:d", "hi", "hey", at=T0 + timedelta(hours=i), after=PAD(1.0, 1.0, 1.0)
        )
    mood = PAD(-0.5, 0.5, -0.5)
    await service.after_turn(
        turn("u:d", "ok", "ok", at=T0 + timedelta(hours=5), before=state.pad, after=mood)
    )
    night = T0 + timedelta(hours=5)  # no time passes: the mood is exactly the stored one
    assert (await jobs.drift_baselines(runtime, now=night))["drifted"] == 1
    again = await jobs.drift_baselines(runtime, now=night)
    assert again["drifted"] == 0 and again["done"] == 1
    current = (await service.history(user_id="u:d", limit=1))[0]
    assert current["trigger_event"] == "baseline_drift"
    assert current["pad"] == pytest.approx(mood.to_dict())
    base = state.baseline
    assert current["pad_baseline"]["pleasure"] == pytest.approx(
        base.pleasure + (1.0 - base.pleasure) * 0.01, abs=1e-4
    )
    previous = (await service.history(user_id="u:d", limit=1, offset=1))[0]
    assert previous["is_current"] is False


async def test_drift_skipped_under_five_interactions(runtime: object) -> None:
    service = runtime.personality  # type: ignore[attr-defined]
    await service.load_state(user_id="u:s", now=T0)
    for i in range(4):
        await log_interaction(
            runtime, "u:s", "hi", "hey", at=T0 + timedelta(hours=i), after=PAD(1, 1, 1)
        )
    counts = await jobs.drift_baselines(runtime, now=T0 + timedelta(hours=6))
    assert counts["skipped"] == 1 and len(await service.history(user_id="u:s")) == 1


async def test_needs_grow_lazily_and_hourly_job_persists(runtime: object) -> None:
    service = runtime.personality  # type: ignore[attr-defined]
    await service.load_state(user_id="u:n", now=T0)
    later = T0 + timedelta(hours=12)
    levels = {n["need_type"]: n["level"] for n in await service.needs(user_id="u:n", now=later)}
    assert levels["rest"] == pytest.approx(0.98) and levels["social"] == pytest.approx(0.86)
    counts = await jobs.update_needs(runtime, now=later)
    assert counts == {"users": 1, "became_urgent": 2, "failed": 0}
    assert (await jobs.update_needs(runtime, now=later))["became_urgent"] == 0
    state = await service.load_state(user_id="u:n", now=later)
    assert state.urgent_needs[:2] == ("rest", "social")
    assert "CURRENT NEEDS: rest (1.0), social (0.9)" in state.mood_block
    assert "CURRENT NEEDS" not in state.prompt_block  # the persona stays the same
    await converse(runtime, "u:n", "hey, how are you?", "good!", at=later)
    levels = {n["need_type"]: n["level"] for n in await service.needs(user_id="u:n", now=later)}
    assert levels["social"] == pytest.approx(0.56)  # social relief is 0.3 per turn


async def test_quirks_emerge_strengthen_and_fade(runtime: object) -> None:
    service = runtime.personality  # type: ignore[attr-defined]
    for i in range(4):
        await converse(
            runtime, "u:q", "tell me", "Ooh! What do you think? 😊", at=T0 + timedelta(hours=i)
        )
    day1 = T0 + timedelta(hours=5)
    assert (await jobs.evolve_quirks(runtime, now=day1))["created"] >= 2
    quirks = {q["name"]: q for q in await service.quirks(user_id="u:q", active_only=True)}
    assert quirks["uses_emoji"]["strength"] == pytest.approx(0.1)
    await converse(runtime, "u:q", "more", "Hmm, and then? 🙂", at=day1 + timedelta(hours=2))
    await jobs.evolve_quirks(runtime, now=day1 + timedelta(days=1))
    quirks = {q["name"]: q for q in await service.quirks(user_id="u:q")}
    assert quirks["uses_emoji"]["strength"] == pytest.approx(0.15)
    for day in range(9, 30, 1):  # silence: −0.1 per night after 7 idle days
        await jobs.evolve_quirks(runtime, now=day1 + timedelta(days=day))
    quirks = {q["name"]: q for q in await service.quirks(user_id="u:q")}
    assert quirks["uses_emoji"]["is_active"] is False
    assert (await service.load_state(user_id="u:q", now=day1 + timedelta(days=30))).quirks == ()


async def test_style_reflection_versions_with_reason_and_diff(runtime: object) -> None:
    service = runtime.personality  # type: ignore[attr-defined]
    for i in range(5):
        await converse(
            runtime,
            "u:y",
            "haha you're hilarious, what should I do next?",
            "Ha! Try juggling.",
            at=T0 + timedelta(minutes=5 * i),
        )
    night = T0 + timedelta(hours=3)
    assert (await jobs.reflect_style(runtime, now=night))["changed"] == 1
    assert (await jobs.reflect_style(runtime, now=night))["done"] == 1
    versions = await service.style_history(user_id="u:y")
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["traits"]["humor"] > 70 and "humor" in versions[0]["diff"]
    assert versions[0]["reason"].startswith("Evolved through interactions")
    assert versions[0]["source"] == "rules" and versions[1]["is_current"] is False


async def test_capable_fast_model_drives_style_and_bad_json_falls_back(
    runtime: object,
) -> None:
    import json

    from tests.unit.personality.test_personality_judge import FakeFast

    from companion.personality import PersonalityService
    from companion.personality.evolution import reflect_style_user

    base = runtime.personality  # type: ignore[attr-defined]
    answer = {
        "warmth": -5,
        "curiosity": 0,
        "assertiveness": 0,
        "humor": 0,
        "emotional_depth": 0,
        "reasoning": "they want distance",
    }
    fast = FakeFast(json.dumps(answer), "garbage")
    service = PersonalityService(db=base.db, settings=base.settings, fast=fast)
    for user in ("u:l1", "u:l2"):
        for i in range(3):
            await converse(
                runtime, user, "haha, what should I do?", "Hm.", at=T0 + timedelta(minutes=i)
            )
    night = T0 + timedelta(hours=2)
    assert await reflect_style_user(service, user_id="u:l1", now=night, period="p") == "changed"
    llm = (await service.style_history(user_id="u:l1"))[0]
    assert llm["source"] == "llm" and llm["diff"] == {
        "warmth": {"from": 75, "to": 73}
    }  # 72.5 rounds half up
    assert "they want distance" in llm["reason"]
    await reflect_style_user(service, user_id="u:l2", now=night, period="p")
    assert (await service.style_history(user_id="u:l2"))[0]["source"] == "rules"


async def test_one_users_failure_does_not_stop_the_hourly_needs_job(
    runtime: object, caplog: pytest.LogCaptureFixture
) -> None:
    service = runtime.personality  # type: ignore[attr-defined]
    for user_id in ("u:ok1", "u:broken", "u:ok2"):
        await service.load_state(user_id=user_id, now=T0)
    db = runtime.db  # type: ignore[attr-defined]
    async with db.engine.begin() as conn:  # a real fault for one user's rows only
        await conn.execute(
            sql(
                "ALTER TABLE needs ADD CONSTRAINT ck_test_fault "
                "CHECK (user_id <> 'u:broken') NOT VALID"
            )
        )
    try:
        with caplog.at_level(logging.ERROR):
            counts = await jobs.update_needs(runtime, now=T0 + timedelta(hours=12))
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(sql("ALTER TABLE needs DROP CONSTRAINT ck_test_fault"))
    assert counts["users"] == 3 and counts["failed"] == 1 and counts["became_urgent"] == 4
    assert [getattr(r, "user_id", None) for r in caplog.records if r.levelno >= logging.ERROR] == [
        "u:broken"
    ]
