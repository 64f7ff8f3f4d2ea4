"""Keeping a conversation's turn contexts alike from one turn to the next. Pure.

The embedded model reads the next turn's likely context ahead while the user types
(``BuiltPrompt.context_start``); every token that is then the same as read ahead is
not read again. The memories a conversation keeps coming back to are the part that
can stay: ``steady_order`` puts the ones the previous turn showed first, in the same
order, and ``ShownMemories`` remembers, per conversation, which those were (in this
process, like the model's cache it serves: another process only reads a little more).

The history window drops its oldest lines in blocks (``ShortTermBuffer``), and so does
the prompt's token budget when long replies fill it (``budget.fit_in_blocks``, at cut
points every ``window_block`` lines, the window's own block); the turn after either
starts differently right after the persona: read then, that is its whole history again.
Both move the history's first line to the next cut point and nowhere else, so
``kept_past_next_cut`` says which of the lines a turn shows will still be there after
the next move, and that prefix can be read ahead a turn at a time, long before it is
needed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

from companion.conversation.ports import RetrievedMemory

__all__ = ["ShownMemories", "kept_past_next_cut", "steady_order", "window_block"]

#: The longest history window whose block ``window_block`` finds.
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


def window_block(carried: Callable[[int], int]) -> int | None:
    """How many lines the history window drops at once, read from its rule (``carried``:
    of ``n`` lines read at a turn, how many the next turn reads too): what a turn that
    fills it loses. None for a window that never drops."""
    for lines in range(1, _HORIZON):
        left = carried(lines)
        if left < lines:
            return max(2, (lines - left + 1) // 2 * 2)  # whole exchanges
    return None


def kept_past_next_cut(lines: int, shown: int, block: int) -> int | None:
    """Of the newest ``shown`` of a turn's ``lines`` history lines (those its prompt
    shows), how many are still there when its history's first line next moves, to the
    next cut point (every ``block`` lines from the list's start: the window's drop or
    the budget's cut, ``budget.fit_in_blocks``); the turns in between add their
    exchanges after them.

    Returns:
        That count; None when the move would take this turn's own exchange too (nothing
        of what this turn adds is in that prefix yet).
    """
    step = max(2, block // 2 * 2)
    first = lines - shown
    following = (first // step + 1) * step
    if following > lines:
        return None
    return lines - following
