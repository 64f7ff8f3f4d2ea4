"""A 30-day simulation with a fake clock: a happy user, a grieving user, an absent user.

Every turn goes through the port (load_state → appraise → after_turn) and the nightly
jobs run at 03:00; the trajectories must go where a person would expect.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.personality.personality_helpers import converse

from companion.personality import jobs
from companion.types import PAD

START = datetime(2026, 6, 1, tzinfo=UTC)
HAPPY = [
    "I got a new puppy today!",
    "haha he chewed my shoe, so funny",
    "Dinner with friends tonight, can't wait",
    "thank you, you always cheer me up",
]
GRIEF = [
    "My dad passed away this morning.",
    "I miss him so much, I feel empty",
    "The funeral was today. I'm exhausted and sad.",
    "I can't stop crying",
]
NEUTRAL = ["I went to work", "It rained a bit", "I had pasta for lunch", "Watched TV"]
REPLY = "I'm here with you. How are you feeling now?"


def _script(user: str, day: int) -> list[str]:
    if user == "sim:happy":
        return HAPPY
    if user == "sim:grief":
        return NEUTRAL if day < 3 else GRIEF if day < 20 else NEUTRAL
    return NEUTRAL if day < 3 else []  # sim:absent stops talking


async def _run(runtime: object) -> dict[str, list[PAD]]:
    moods: dict[str, list[PAD]] = {u: [] for u in ("sim:happy", "sim:grief", "sim:absent")}
    for day in range(30):
        evening = START + timedelta(days=day, hours=19)
        for user, trail in moods.items():
            for i, text in enumerate(_script(user, day)):
                trail.append(
                    await converse(
                        runtime, user, text, REPLY, at=evening + timedelta(minutes=7 * i)
                    )
                )
        night = START + timedelta(days=day + 1, hours=3)
        for job in (
            jobs.update_needs,
            jobs.drift_baselines,
            jobs.evolve_quirks,
            jobs.reflect_style,
        ):
            await job(runtime, now=night)
    return moods


async def test_thirty_days(runtime: object) -> None:
    service = runtime.personality  # type: ignore[attr-defined]
    initial = (await service.load_state(user_id="sim:happy", now=START)).baseline
    moods = await _run(runtime)
    end = START + timedelta(days=30, hours=12)
    happy, grief, absent = [
        await service.load_state(user_id=u, now=end)
        for u in ("sim:happy", "sim:grief", "sim:absent")
    ]

    # The happy companion's baseline drifted up; the grieving one's down.
    assert happy.baseline.pleasure > initial.pleasure + 0.005
    assert grief.baseline.pleasure < initial.pleasure - 0.005
    # During grief the mood after each message was low and subdued.
    grief_days = moods["sim:grief"][12:76]
    assert max(p.pleasure for p in grief_days) < initial.pleasure
    assert sum(p.arousal for p in grief_days) / len(grief_days) < initial.arousal
    happy_moods = moods["sim:happy"]
    assert sum(p.pleasure for p in happy_moods) / len(happy_moods) > initial.pleasure
    assert min(p.pleasure for p in happy_moods) > max(p.pleasure for p in grief_days)
    # After grief the mood recovers toward the (slightly lowered) baseline.
    assert abs(grief.pad.pleasure - grief.baseline.pleasure) < 0.35

    # The absent user's companion: baseline frozen (drift needs 5 interactions in 7 days),
    # every need pressing, the mood pulled below the baseline.
    drift = absent.baseline.pleasure - initial.pleasure
    assert abs(drift) < abs(happy.baseline.pleasure - initial.pleasure)
    assert set(absent.urgent_needs) == {"social", "intellectual", "creative", "rest", "validation"}
    assert absent.pad.pleasure < absent.baseline.pleasure - 0.25
    assert happy.needs["social"] < absent.needs["social"]

    # Habits formed: the companion's replies always end with a question.
    assert "asks_follow_up_questions" in happy.quirks
    # Laughter and warmth nudged the happy companion's style; history is complete.
    style = await service.style_history(user_id="sim:happy")
    assert style[0]["traits"]["humor"] >= 70 and len(style) >= 2
    history = await service.history(user_id="sim:happy", limit=1000)
    assert len(history) == 1 + 120 + sum(h["trigger_event"] == "baseline_drift" for h in history)
