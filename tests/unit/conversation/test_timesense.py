"""A sense of time: local date, weekday, part of day and the gap since the last talk."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from companion.conversation.budget import TokenBudget
from companion.conversation.ports import CompanionState
from companion.conversation.prompt import build_prompt
from companion.conversation.timesense import elapsed_phrase, part_of_day, time_context
from companion.types import PAD

NOW = datetime(2026, 11, 30, 7, 40, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("seconds", "phrase"),
    [
        (60, None),
        (29 * 60, None),
        (3600, "an hour"),
        (5 * 3600, "five hours"),
        (26 * 3600, "a day"),
        (3 * 86400, "three days"),
        (20 * 86400, "three weeks"),
        (100 * 86400, "three months"),
        (800 * 86400, "two years"),
    ],
)
def test_elapsed_phrase(seconds: float, phrase: str | None) -> None:
    assert elapsed_phrase(seconds) == phrase


def test_parts_of_day() -> None:
    assert [part_of_day(h) for h in (3, 8, 13, 19, 23)] == [
        "night",
        "morning",
        "afternoon",
        "evening",
        "night",
    ]


def test_local_time_follows_the_users_timezone() -> None:
    tokyo = time_context(NOW, timezone="Asia/Tokyo", last_talk=NOW - timedelta(days=3))
    assert tokyo.startswith("It is Monday, 30 November 2026, 16:40 in the afternoon")
    assert "It's been three days since you last talked." in tokyo
    york = time_context(NOW, timezone="America/New_York", last_talk=NOW - timedelta(minutes=5))
    assert "02:40 at night" in york and "since you last talked" not in york


def test_first_talk_and_unknown_timezone() -> None:
    text = time_context(NOW, timezone="Not/AZone", last_talk=None)
    assert "(UTC)" in text and "07:40 in the morning" in text
    assert "first conversation" in text


def test_prompt_carries_the_time_beside_the_message() -> None:
    state = CompanionState(
        user_id="u",
        name="Mira",
        preset="curious_companion",
        big_five={},
        pad=PAD(),
        baseline=PAD(),
        emotion="neutral",
        prompt_block="You are Mira.",
    )
    state = replace(state, timezone="Europe/Lisbon", last_talk=NOW - timedelta(days=2))
    built = build_prompt(
        state, message="hi", memories=[], history=[], budget=TokenBudget.for_context(2048), now=NOW
    )
    assert built.messages[0].content == "You are Mira."  # the time stays out of the prefix
    context = built.messages[-2].content
    assert built.messages[-2].role == "system"
    assert "Monday, 30 November 2026, 07:40 in the morning" in context
    assert "It's been two days since you last talked." in context


def test_relative_dates_resolve_in_the_users_timezone() -> None:
    from companion.conversation.timesense import date_notes

    # 07:40 UTC Monday; in Lisbon still Monday 30 November.
    note = date_notes(
        "See you next Friday! I was ill yesterday and my exam is in two weeks.",
        now=NOW,
        timezone="Europe/Lisbon",
    )
    assert note == (
        'In their message, "next friday" is Friday 4 December 2026 and "yesterday" is '
        'Sunday 29 November 2026 and "in two weeks" is Monday 14 December 2026.'
    )
    # In Honolulu it is still Sunday 29 November: "tomorrow" is Monday the 30th.
    hawaii = date_notes("I fly out tomorrow", now=NOW, timezone="Pacific/Honolulu")
    assert hawaii == 'In their message, "tomorrow" is Monday 30 November 2026.'
    assert date_notes("How are you today?", now=NOW, timezone="UTC") is None
    assert date_notes("Tell me a story", now=NOW, timezone="UTC") is None


def test_prompt_resolves_the_messages_relative_dates() -> None:
    state = CompanionState(
        user_id="u", name="Mira", preset="p", big_five={}, pad=PAD(), baseline=PAD(),
        emotion="neutral", prompt_block="You are Mira.", timezone="Asia/Tokyo",
    )  # fmt: skip
    built = build_prompt(
        state, message="My sister visits next Friday.", memories=[], history=[],
        budget=TokenBudget.for_context(2048), now=NOW,
    )  # fmt: skip
    context = built.messages[-2].content
    assert '"next friday" is Friday 4 December 2026.' in context
    assert built.messages[-1].content == "My sister visits next Friday."  # stored as said


def test_compact_clock_says_the_same_in_fewer_tokens() -> None:
    from companion.conversation.budget import estimate_tokens

    last = NOW - timedelta(days=3)
    full = time_context(NOW, timezone="Asia/Tokyo", last_talk=last)
    short = time_context(NOW, timezone="Asia/Tokyo", last_talk=last, compact=True)
    assert short == (
        "Their time: Monday, 30 November 2026, between 16:00 and 17:00 (afternoon). Last talk: "
        "three days ago."
    )
    assert estimate_tokens(short) < estimate_tokens(full) * 0.75
    recent = NOW - timedelta(minutes=5)
    same_talk = time_context(NOW, timezone="UTC", last_talk=recent, compact=True)
    assert same_talk == "Their time: Monday, 30 November 2026, between 07:00 and 08:00 (morning)."
    first = time_context(NOW, timezone="Not/AZone", last_talk=None, compact=True)
    assert first.endswith("(morning). You are meeting them for the first time.")
