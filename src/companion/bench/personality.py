"""Personality: appraisal speed, reflection, empathy fit.

Appraisal is the synchronous step of every turn (rules + VADER + shaping); reflection
is the nightly per-user work (drift, quirks, style) on the rule paths against the
configured database. Prints a Markdown block for docs/BENCHMARKS.md "## Personality".
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from companion.bench.measure import DATA, percentile
from companion.personality.core import PRESETS, appraise_delta, render_prompt
from companion.personality.core.pad import apply_delta, baseline_from_big_five

if TYPE_CHECKING:
    from companion.settings import Settings

__all__ = ["EMPATHY_DATA", "empathy", "run"]

_MESSAGES = [
    "I got a new puppy today!",
    "My dad passed away last week and I miss him so much.",
    "I finally finished my thesis, I'm thrilled",
    "I failed the exam again",
    "thank you, you helped a lot",
    "Suddenly my boss called me in, I'm shocked",
    "Dinner with my family tonight",
    "The meeting is at 3pm on Tuesday.",
    "I am so angry at my landlord, I hate this",
    "haha that's hilarious",
    "What do you think about black holes? I've been reading a book about them and I keep "
    "wondering how anything can escape, and whether Hawking radiation is real.",
]


def _appraisal(n: int) -> dict[str, float]:
    traits = PRESETS["curious_companion"]
    pad = baseline_from_big_five(traits)
    appraise_delta("warm-up", traits)  # loads the VADER lexicon once
    samples = []
    for i in range(n):
        text = _MESSAGES[i % len(_MESSAGES)]
        start = time.perf_counter()
        _, delta = appraise_delta(text, traits)
        pad = apply_delta(pad, delta)
        samples.append((time.perf_counter() - start) * 1e6)
    start = time.perf_counter()
    for _ in range(1000):
        render_prompt(
            name="C",
            big_five=traits.to_dict(),
            pad=pad,
            emotion="relaxed",
            quirks=[("uses_emoji", 0.3)],
            urgent_needs=[("social", 0.8)],
            style={"warmth": 75},
        )
    return {
        "p50_us": percentile(samples, 0.5),
        "p95_us": percentile(samples, 0.95),
        "mean_us": statistics.fmean(samples),
        "prompt_us": (time.perf_counter() - start) * 1e3,
    }


async def _reflection(settings: Settings, users: int, turns: int) -> dict[str, float]:
    from companion.personality import PersonalityService
    from companion.personality.evolution import drift_user, evolve_quirks_user, reflect_style_user
    from companion.runtime import Runtime
    from companion.store.repositories import interactions

    runtime = await Runtime.start(settings)
    try:
        service = runtime.personality
        assert isinstance(service, PersonalityService)
        now = datetime.now(UTC)
        tag = uuid.uuid4().hex[:6]
        ids = [f"bench:{tag}:{i}" for i in range(users)]
        for user_id in ids:
            state = await service.load_state(user_id=user_id, now=now - timedelta(days=1))
            async with runtime.db.transaction() as session:
                for t in range(turns):
                    text = _MESSAGES[(t + len(user_id)) % len(_MESSAGES)]
                    pad = service.appraise(state, text=text)
                    await interactions.record_interaction(
                        session,
                        user_id=user_id,
                        timestamp=now - timedelta(hours=20 - t % 20),
                        user_message=text,
                        agent_response="Oh! What happened next? 🙂",
                        pad_after=pad.to_dict(),
                    )
        period = f"bench-{tag}"
        start = time.perf_counter()
        for user_id in ids:
            await drift_user(service, user_id=user_id, now=now, period=period)
            await evolve_quirks_user(service, user_id=user_id, now=now, period=period)
            await reflect_style_user(service, user_id=user_id, now=now, period=period)
        elapsed = time.perf_counter() - start
        async with runtime.db.transaction() as session:
            from sqlalchemy import text as sql

            await session.execute(
                sql("DELETE FROM users WHERE id LIKE :p"), {"p": f"bench:{tag}:%"}
            )
    finally:
        await runtime.close()
    return {"users": users, "seconds": elapsed, "users_per_min": users / elapsed * 60}


def run(*, settings: Settings, messages: int, users: int, turns: int) -> str:
    """Appraisal latency per message and nightly reflection throughput (rule paths)."""
    a = _appraisal(messages)
    r = asyncio.run(_reflection(settings, users, turns))
    return (
        f"- Appraisal (OCC rules + VADER + life events + Big Five shaping), {messages} "
        f"messages: p50 {a['p50_us']:.0f} µs, p95 {a['p95_us']:.0f} µs, mean "
        f"{a['mean_us']:.0f} µs per message; persona block render {a['prompt_us']:.1f} µs.\n"
        f"- Nightly reflection on the rule paths (drift + quirk lifecycle + style traits, "
        f"{turns} interactions per user in the window): {r['users']} users in "
        f"{r['seconds']:.1f} s = {r['users_per_min']:.0f} users/min (one worker)."
    )


EMPATHY_DATA = DATA / "personality/empathy_labelled.jsonl"


def empathy(*, data: Path, show_misses: bool) -> str:
    """Agreement of the appraisal with hand-labelled PAD directions, per split and axis."""
    from companion.personality.empathy_check import AXES, load_labelled, score

    rows = load_labelled(data)
    lines = ["| split | messages | pleasure | arousal | dominance |", "|---|---:|---:|---:|---:|"]
    for split in sorted({r.split for r in rows}, reverse=True):
        result = score(r for r in rows if r.split == split)
        rates = " | ".join(f"{result.rate(axis):.3f}" for axis in AXES)
        lines.append(f"| {split} | {result.total} | {rates} |")
        if show_misses:
            for row, got in result.misses:
                lines.append(f"  miss ({split}) want {row.expected} got {got}: {row.text}")
    return "\n".join(lines)
