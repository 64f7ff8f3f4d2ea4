"""A conversation's turn contexts stay alike from one turn to the next (compact layout)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.small_companion import SOL, retrieved

from companion.conversation.budget import TokenBudget, fit_in_blocks
from companion.conversation.ports import RetrievedMemory, ShortTermTurn
from companion.conversation.prompt import BuiltPrompt, build_prompt
from companion.conversation.steady import (
    ShownMemories,
    kept_past_next_cut,
    steady_order,
    window_block,
)
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


async def test_the_lines_said_to_stay_past_the_next_move_are_the_ones_that_stay() -> None:
    """``kept_past_next_cut`` checked against the window and the budget together: a
    conversation with long replies, its history kept by the short-term window (ten
    exchanges, five dropped at once) and cut by the token budget at the window's block.
    Whenever the prompt's first history line moves (a drop or a cut), the prompt then
    begins with the lines each turn since the last move named, followed by that turn's
    exchange; a turn that named none has its exchange gone by then. The first line
    moves every few turns, not at each."""
    buffer = ShortTermBuffer(MemoryStore(), keep=20, ttl=60)
    block = window_block(buffer.carried)
    assert block == buffer.drop == 10
    conversation, budget = uuid.uuid4(), 1100
    prompts: list[list[str]] = []
    said: list[tuple[int, int | None]] = []
    for turn in range(60):
        history = [line.content for line in await buffer.read("u", conversation, since=None)]
        keep = fit_in_blocks(history, budget, block)
        prompts.append(history[len(history) - keep :])
        # As the pipeline: none when this turn's window drop changes the next prefix.
        leaving = keep - min(keep, buffer.carried(len(history)))
        said.append((leaving, kept_past_next_cut(len(history), keep, block)))
        await buffer.push("u", conversation, "user", f"said {turn} " + "s" * (turn * 7 % 40), NOW)
        reply = f"replied {turn} " + "r" * (300 + turn * 53 % 250)
        await buffer.push("u", conversation, "assistant", reply, NOW)
    moves = [t for t in range(2, 60) if prompts[t][0] != prompts[t - 1][0]]
    assert 8 <= len(moves) <= 60 // 4
    checked = 0
    for t, (leaving, count) in enumerate(said):
        move = next((m for m in moves if m > t), None)
        if move is None or leaving:
            continue
        own = [line for line in prompts[move] if line.startswith((f"said {t} ", f"replied {t} "))]
        if count is None:  # gone by then
            assert own == []
            continue
        stays = prompts[t][len(prompts[t]) - count :] if count else []
        assert prompts[move][: count + 2] == [*stays, *own] and len(own) == 2
        checked += 1
    assert checked >= 15
    assert kept_past_next_cut(12, 12, 10) == 2  # uncut: the window drops ten
    assert kept_past_next_cut(12, 2, 10) is None  # cut at 10: the next at 20 takes this turn's
    assert kept_past_next_cut(20, 10, 10) == 0  # cut at 10: after the next, only what comes
    assert window_block(lambda lines: lines) is None  # a window that never drops
