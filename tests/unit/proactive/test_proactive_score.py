"""The Discord design's exact proactive formulas and the hard limits."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from companion.proactive.core import (
    GuardrailLimits,
    ThoughtContext,
    blocked_by,
    combine,
    find_open_thread,
    in_quiet_hours,
    need_urgency,
    parse_quiet_hours,
    pattern_score,
    personality_factor,
    primary_trigger,
    recent_contact_penalty,
    render_message,
    rule_thought,
    timing_score,
)
from companion.proactive.core.score import time_gap_score


def test_need_urgency_is_the_weighted_average_of_urgent_needs() -> None:
    levels = [[0.9, 1.0, 0.5, math.nan, math.nan]]
    thresholds = [[0.8, 0.8, 0.8, 0.8, 0.8]]
    weights = [[1.0, 3.0, 1.0, 1.0, 1.0]]
    # urgencies 0.5 (w 1) and 1.0 (w 3); 0.5 is below its threshold
    assert need_urgency(levels, thresholds, weights)[0] == pytest.approx((0.5 + 3.0) / 4)
    assert need_urgency([[0.5] * 5], thresholds, weights)[0] == 0.0
    assert need_urgency([[1.0]], [[1.0]], [[1.0]])[0] == 1.0  # max_excess 0 → 1


def test_timing_uses_own_histogram_with_recency_penalty() -> None:
    full = timing_score(10, 10, 4, 8, samples=30, hours_since_activity=24)
    assert full == pytest.approx(1.0 * 0.7 + 0.5 * 0.3)
    recent = timing_score(10, 10, 8, 8, samples=30, hours_since_activity=2)
    assert recent == pytest.approx(1.0 * (1 - (4 - 2) / 4 * 0.5))
    stale = timing_score(10, 10, 8, 8, samples=30, hours_since_activity=72 + 168)
    assert stale == pytest.approx(1.0 * (1 - 0.5))
    assert timing_score(0, 0, 0, 0, samples=2, hours_since_activity=24) == pytest.approx(0.5)


def test_pattern_score_exact_formula() -> None:
    value = pattern_score(0.8, 5, 30, initiation_ratio=0.2, has_history=True)
    assert value == pytest.approx(0.8 * 0.4 + 0.5 * 0.3 + 1.0 * 0.2 + 1.3 * 0.1)
    assert pattern_score(1, 10, 30, initiation_ratio=0, has_history=False) == 0.5
    assert time_gap_score(6) == pytest.approx(0.5)
    assert time_gap_score(168) == pytest.approx(1.2)
    assert time_gap_score(108) == pytest.approx(1.1)


def test_personality_factor_traits_pad_and_clamp() -> None:
    neutral = {
        k: 0.5
        for k in ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
    }
    assert personality_factor(neutral, (0, 0, 0)) == pytest.approx(0.8 * 0.9)
    outgoing = dict(neutral, extraversion=1.0)
    assert personality_factor(outgoing, (1, 0, 1)) == pytest.approx(1.15 * 1.1 * 1.1)
    low = dict(neutral, extraversion=0.0, openness=0.0, conscientiousness=1.0)
    assert personality_factor(low, (-1, 1, -1)) == pytest.approx(0.3)
    nan = {k: math.nan for k in neutral}
    assert personality_factor(nan, (math.nan,) * 3) == 1.0


def test_combined_score_and_trigger() -> None:
    score = combine(0.5, 0.8, 0.6, personality=1.2, penalty=0.25)
    assert score == pytest.approx((0.2 + 0.2 + 0.21) * 1.2 * 0.75)
    assert combine(1, 1, 1, personality=1.7, penalty=0) == 1.0
    assert primary_trigger(0.5, 0.8, 0.6) == "interaction_pattern"
    assert primary_trigger(0.9, 0.8, 0.6) == "need_urgency"
    assert primary_trigger(0.0, 0.0, 0.0) == "general"
    assert recent_contact_penalty(12) == pytest.approx(0.25)
    assert recent_contact_penalty(math.nan) == 0.0


def test_quiet_hours_wrap_midnight() -> None:
    start, end = parse_quiet_hours("23-08")
    assert (start, end) == (23 * 60, 8 * 60)
    assert in_quiet_hours([23 * 60, 2 * 60, 8 * 60, 12 * 60], start, end).tolist() == [
        True,
        True,
        False,
        False,
    ]
    assert parse_quiet_hours("09:30-17:00") == (570, 1020)
    assert not in_quiet_hours(600, 0, 0)
    with pytest.raises(ValueError, match="quiet hours"):
        parse_quiet_hours("late")


def _block(**overrides: object) -> object:
    args: dict[str, object] = dict(
        suspended=False,
        enabled=True,
        quiet=False,
        sent_today=0,
        hours_since_last=math.nan,
        last_answered=False,
        hours_since_decline=math.nan,
        previous_unanswered=False,
    )
    args.update(overrides)
    return blocked_by(limits=GuardrailLimits(), **args)[()]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, None),
        ({"suspended": True, "enabled": False}, "suspended"),
        ({"enabled": False}, "opted_out"),
        ({"quiet": True}, "quiet_hours"),
        ({"sent_today": 3, "hours_since_last": 5, "last_answered": True}, "daily_limit"),
        ({"hours_since_last": 3.9, "last_answered": True}, "min_gap"),
        ({"hours_since_last": 8}, "awaiting_reply"),
        ({"hours_since_last": 30, "last_answered": True, "hours_since_decline": 20}, "declined"),
        ({"hours_since_last": 30}, "unanswered"),
        ({"hours_since_last": 37}, None),
        ({"hours_since_last": 60, "previous_unanswered": True}, "unanswered_pause"),
        ({"hours_since_last": 85, "previous_unanswered": True}, None),
    ],
)
def test_hard_limits(overrides: dict[str, object], expected: str | None) -> None:
    assert _block(**overrides) == expected


def test_rule_thought_prefers_upcoming_event_then_worry_then_need() -> None:
    now = datetime(2026, 11, 21, tzinfo=UTC)
    ctx = ThoughtContext(
        memories=["I'm worried about my cat", "I have a job interview on Friday"],
        urgent_needs=["social"],
    )
    assert find_open_thread(ctx).kind == "event"
    assert find_open_thread(ThoughtContext(memories=["I'm so stressed"])).kind == "worry"
    thought = rule_thought(ThoughtContext(urgent_needs=["validation"], score=0.7), now=now)
    assert thought.thread == "need" and thought.proactive_impulse == 0.7
    assert render_message(thought).startswith("I've been reflecting")
    event = rule_thought(ctx, now=now)
    assert "job interview" in render_message(event)
    assert np.isclose(event.proactive_impulse, 0.0)
