"""One answer at a time per user, without a race between check and claim.

Why: DECISIONS.md#one-answer-per-user.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["UserGate"]


class UserGate:
    """Claims a user for the duration of one turn.

    The check and the claim happen with no ``await`` in between, so on one event loop
    two messages cannot both get through (a plain dict check-then-set could across
    awaits). Other processes are serialised by the pipeline's own Redis lock.
    """

    def __init__(self) -> None:
        self._busy: set[str] = set()

    def busy(self, user_id: str) -> bool:
        """Whether a turn for ``user_id`` is running."""
        return user_id in self._busy

    @contextmanager
    def claim(self, user_id: str) -> Iterator[bool]:
        """Yield ``True`` if this caller got the user, ``False`` if someone else has it."""
        if user_id in self._busy:
            yield False
            return
        self._busy.add(user_id)
        try:
            yield True
        finally:
            self._busy.discard(user_id)
