"""A conversation's turn contexts stay alike from one turn to the next (compact layout)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.small_companion import SOL, retrieved

from companion.conversation.budget import TokenBudget
from companion.conversation.ports import RetrievedMemory, ShortTermTurn
from companion.conversation.prompt import BuiltPrompt, build_prompt
from companion.conversation.steady import ShownMemories, kept_past_next_drop, steady_order
from companion.conversation.timesense import time_context
from companion.memory.writer import ShortTermBuffer
from companion.store.kv import MemoryStore

NOW = datetime(2026, 11, 30, 18, 5, tzinfo=UTC)
STATE = SOL
FACTS = {
    "a": "The user's greyhound Biscuit steals bread.",
    "b": "The user's sister Priya gets married in June.",
    "c": "The user is learning Spanish on the bus.",
    "d": "The user grew up by the sea.",
    "e": "The user plays the cello on Sundays.",
}


def _found(*ids: str) -> list[RetrievedMemory]:
    return retrieved(FACTS, ids, created_at=NOW)


def _turn(
    message: str, found: list[RetrievedMemory], now: datetime, shown: tuple[str, ...] = ()
) -> BuiltPrompt:
    return build_prompt(
        replace(STATE, last_talk=now - timedelta(minutes=3)), message=message, memories=found,
        history=[ShortTermTurn("user", "Hi"), ShortTermTurn("assistant", "Hello!")],
        budget=TokenBudget.for_context(2048), now=now, compact=True, shown_before=shown,
    )  # fmt: skip


def test_steady_order_puts_the_memories_shown_before_first_in_their_order() -> None:
    found = _found("d", "b", "e", "a")
    assert [m.id for m in steady_order(found, ["a", "x", "b"])] == ["a", "b", "d", "e"]
    assert [m.id for m in steady_order(found, [])] == ["d", "b", "e", "a"]


def test_shown_memories_remembers_the_last_turn_of_recent_conversations() -> None:
    shown = ShownMemories(capacity=2)
    shown.put("c1", ["a", "b"])
    shown.put("c2", ["c"])
    shown.put("c1", ["b"])  # c1 is the most recent again
    shown.put("c3", ["d"])
    assert shown.get("c1") == ("b",) and shown.get("c3") == ("d",)
    assert shown.get("c2") == () and shown.get("unknown") == ()


def test_the_next_turn_starts_as_read_ahead_when_it_finds_the_same_memories() -> None:
    first = _turn("My sister's wedding is next Friday.", _found("a", "b", "c", "d"), NOW)
    context = first.messages[-2].content
    assert '"next friday"' in context  # the date note is this message's only
    assert '"next friday"' not in first.context_start
    assert first.context_start.endswith(
        f"<memories>\n- {FACTS['a']}\n- {FACTS['b']}\n- {FACTS['c']}\n</memories>"
    )
    later = NOW + timedelta(minutes=20)
    # The same three found in another order: shown in the previous order, so the whole
    # read-ahead is the whole next context.
    steady = _turn("Any ideas?", _found("c", "a", "b", "e"), later, shown=tuple(first.memory_ids))
    assert steady.memory_ids == ["a", "b", "c"]
    assert steady.messages[-2].content == first.context_start
    # Best first instead: the next context leaves the read-ahead at its first memory.
    ranked = _turn("Any ideas?", _found("c", "a", "b", "e"), later)
    assert ranked.memory_ids == ["c", "a", "b"]
    assert not ranked.messages[-2].content.startswith(first.context_start)
    # One memory new: the ones found again come first, the read-ahead holds up to them.
    partly = _turn("Any ideas?", _found("e", "b", "a"), later, shown=tuple(first.memory_ids))
    assert partly.memory_ids == ["a", "b", "e"]
    lines = first.context_start.rsplit(f"- {FACTS['c']}\n", 1)[0]
    assert partly.messages[-2].content.startswith(lines + f"- {FACTS['e']}\n")
    # In the next hour the clock line differs: the read-ahead holds up to it.
    hour = _turn("Any ideas?", _found("a", "b", "c"), NOW + timedelta(hours=1))
    assert not hour.messages[-2].content.startswith(first.context_start)


def test_the_compact_clock_is_to_the_hour() -> None:
    late = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    line = time_context(late, timezone="UTC", last_talk=late, compact=True)
    assert line == "Their time: Monday, 30 November 2026, between 23:00 and 00:00 (night)."
    assert (
        time_context(late - timedelta(minutes=58), timezone="UTC", last_talk=late, compact=True)
        == line
    )


async def test_the_lines_said_to_stay_past_the_next_drop_are_the_ones_that_stay() -> None:
    """``kept_past_next_drop`` from the window's own rule, checked against the window:
    the lines it names are the first ones after the next block drop, followed by what
    came in since; no answer at a turn that drops, or whose own lines would go."""
    buffer = ShortTermBuffer(MemoryStore(), keep=20, ttl=60)
    conversation = uuid.uuid4()
    said: dict[int, tuple[list[str], int | None]] = {}
    answered = 0
    for turn in range(40):
        history = [line.content for line in await buffer.read("u", conversation, since=None)]
        kept = kept_past_next_drop(buffer.carried, len(history))
        said[turn] = (history, kept)
        for role, text in (("user", f"said {turn}"), ("assistant", f"replied {turn}")):
            await buffer.push("u", conversation, role, text, NOW)
        if buffer.carried(len(history)) < len(history):  # this turn dropped a block
            assert kept is None
            for earlier, (lines, count) in said.items():
                if (
                    count is not None
                    and earlier < turn
                    and not _dropped_between(said, earlier, turn)
                ):
                    after = [
                        line.content for line in await buffer.read("u", conversation, since=None)
                    ]
                    stays = lines[len(lines) - count :] if count else []
                    assert after[: len(stays) + 2] == [
                        *stays,
                        f"said {earlier}",
                        f"replied {earlier}",
                    ]
                    answered += 1
    assert answered >= 10
    assert kept_past_next_drop(lambda lines: lines, 6) is None  # a window that never drops


def _dropped_between(said: dict[int, tuple[list[str], int | None]], start: int, end: int) -> bool:
    """Whether a turn after ``start`` and before ``end`` dropped (its answer was None)."""
    return any(said[t][1] is None for t in range(start + 1, end))
