"""The short-term window moves in blocks, so consecutive prompts share their history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from companion.memory.writer import ShortTermBuffer
from companion.store.kv import MemoryStore, overflow


def test_overflow_drops_whole_blocks_and_keeps_the_newest() -> None:
    assert overflow(10, 10, 4) == 0
    assert overflow(11, 10, 4) == 4
    assert overflow(15, 10, 4) == 8  # two blocks to fit
    assert overflow(3, 2, 10) == 2  # a block larger than the list: the newest stays
    assert overflow(11, 10, 1) == 1  # one at a time: the plain capped list


async def test_history_prefix_changes_only_when_a_block_leaves() -> None:
    buffer = ShortTermBuffer(MemoryStore(), keep=20, ttl=60)
    assert buffer.drop == 10  # half the window, whole exchanges
    conversation = uuid.uuid4()
    at = datetime.now(UTC)
    firsts: list[str] = []
    lengths: list[int] = []
    for turn in range(30):
        history = await buffer.read("u", conversation, since=None)
        firsts.append(history[0].content if history else "")
        lengths.append(len(history))
        predicted = buffer.carried(len(history))
        await buffer.push("u", conversation, "user", f"said {turn}", at)
        await buffer.push("u", conversation, "assistant", f"replied {turn}", at)
        after = await buffer.read("u", conversation, since=None)
        # ``carried`` says which of this turn's history lines the next turn still reads.
        carried = history[len(history) - predicted :] if predicted else []
        assert after[: len(carried)] == carried and len(after) == len(carried) + 2
        assert after[0].role == "user"  # whole exchanges leave, never half of one
    # The window never holds more than ten exchanges nor, once full, fewer than six; its
    # oldest line (where the cached prompt prefix starts to differ) changed at turns 11,
    # 16, 21 and 26, once every five turns, not at every turn.
    assert max(lengths) == 20 and min(lengths[10:]) == 12
    changed = [t for t in range(2, 30) if firsts[t] != firsts[t - 1]]
    assert changed == [11, 16, 21, 26]
