"""A plain companion state and retrieved memories for prompt-layout tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from companion.conversation.ports import CompanionState, RetrievedMemory
from companion.types import PAD

#: Sol, a curious companion with no Big Five, at rest.
SOL = CompanionState(
    user_id="u", name="Sol", preset="curious_companion", big_five={}, pad=PAD(),
    baseline=PAD(), emotion="relaxed", style={"warmth": 80}, prompt_block="Sol.",
)  # fmt: skip


def retrieved(
    facts: Mapping[str, str], ids: tuple[str, ...], *, created_at: datetime
) -> list[RetrievedMemory]:
    """The memories ``ids`` of ``facts`` as retrieval would return them, best first."""
    return [
        RetrievedMemory(id=i, content=facts[i], memory_type="semantic", score=1.0 - n / 10,
                        reason="r", created_at=created_at)
        for n, i in enumerate(ids)
    ]  # fmt: skip
