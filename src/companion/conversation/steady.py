"""Keeping a conversation's turn contexts alike from one turn to the next. Pure.

The embedded model reads the next turn's likely context ahead while the user types
(``BuiltPrompt.context_start``); every token that is then the same as read ahead is
not read again. The memories a conversation keeps coming back to are the part that
can stay: ``steady_order`` puts the ones the previous turn showed first, in the same
order, and ``ShownMemories`` remembers, per conversation, which those were (in this
process, like the model's cache it serves: another process only reads a little more).

The history window drops its oldest lines in blocks (``ShortTermBuffer``), and the
turn after a drop starts differently right after the persona: read then, that is the
whole history again. ``kept_past_next_drop`` says, from the window's own rule
(``carried``), which of the lines read now will still be there after the next drop, so
that prefix can be read ahead a turn at a time, long before it is needed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

from companion.conversation.ports import RetrievedMemory

__all__ = ["ShownMemories", "kept_past_next_drop", "steady_order"]

#: How many turns ahead to look for the window's next drop.
_HORIZON = 64


def steady_order(
    memories: Sequence[RetrievedMemory], shown_before: Sequence[str]
) -> list[RetrievedMemory]:
    """``memories`` with those whose ids are in ``shown_before`` first, in that order,
    then the others as given (best first)."""
    place = {memory_id: i for i, memory_id in enumerate(shown_before)}
    kept = sorted((m for m in memories if m.id in place), key=lambda m: place[m.id])
    return [*kept, *(m for m in memories if m.id not in place)]


class ShownMemories:
    """The memory ids each recent conversation's last turn showed (an LRU)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._shown: OrderedDict[Hashable, tuple[str, ...]] = OrderedDict()

    def get(self, conversation: Hashable) -> tuple[str, ...]:
        """The ids shown last in ``conversation`` (none when unknown)."""
        return self._shown.get(conversation, ())

    def put(self, conversation: Hashable, ids: Sequence[str]) -> None:
        """Remember ``ids`` as shown last in ``conversation``."""
        self._shown[conversation] = tuple(ids)
        self._shown.move_to_end(conversation)
        while len(self._shown) > self.capacity:
            self._shown.popitem(last=False)


def kept_past_next_drop(carried: Callable[[int], int], lines: int) -> int | None:
    """Of the ``lines`` history lines a turn read, how many (the newest) are still in
    the window right after its next block drop at a later turn.

    Args:
        carried: The window's rule: of ``n`` lines read at a turn, how many the next
            turn reads too (after that turn's user line and reply came in).
        lines: The history lines read at this turn.

    Returns:
        That count; None when this turn's own lines make the window drop (the next
        turn's prefix says so already), when the drop would take this turn's own lines
        too, or when no drop comes within ``_HORIZON`` turns.
    """
    if carried(lines) < lines:
        return None
    length = lines + 2  # this turn's user line and reply are in
    for _ in range(_HORIZON):
        left = carried(length)
        if left < length:
            kept = lines - (length - left)
            return kept if kept >= 0 else None
        length += 2
    return None
