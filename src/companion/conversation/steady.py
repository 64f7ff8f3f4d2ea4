"""Keeping a conversation's turn contexts alike from one turn to the next. Pure.

The embedded model reads the next turn's likely context ahead while the user types
(``BuiltPrompt.context_start``); every token that is then the same as read ahead is
not read again. The memories a conversation keeps coming back to are the part that
can stay: ``steady_order`` puts the ones the previous turn showed first, in the same
order, and ``ShownMemories`` remembers, per conversation, which those were (in this
process, like the model's cache it serves: another process only reads a little more).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence

from companion.conversation.ports import RetrievedMemory

__all__ = ["ShownMemories", "steady_order"]


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
