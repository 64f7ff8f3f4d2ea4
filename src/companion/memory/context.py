"""A turn's conversational context: what it is searched by besides its own words.

A line like "Yes, twice last summer!" is unfindable alone; with the question before it
("Have you been to Paris?"), the reply after it and the day it was said, both the
embedding and the full-text index know what it is about. The memory returned is still
the turn itself; the context only travels in ``memories.context`` (full-text weight B)
and in the text that is embedded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Turn", "context_text", "embedding_text", "neighbour_contexts"]

#: Characters of a neighbour kept in the context (long monologues would drown the turn).
NEIGHBOUR_CHARS = 300
#: Whether the context is embedded with the turn. Off: a turn with both neighbours is
#: about 3x the tokens, and MiniLM's cost grows with them (measured 2.6x slower per text
#: on LoCoMo turns), which would put imports far below their 300 messages/s goal; the
#: context reaches search through the full-text side instead.
EMBED_CONTEXT = False


@dataclass(frozen=True)
class Turn:
    """One line of a conversation, as stored ("Speaker: text") with its time."""

    content: str
    at: datetime
    session: str = ""


def _day(at: datetime) -> str:
    return f"{at.day} {at:%B %Y}"


def _short(text: str) -> str:
    return text if len(text) <= NEIGHBOUR_CHARS else text[:NEIGHBOUR_CHARS].rsplit(" ", 1)[0]


def context_text(at: datetime, previous: str | None, following: str | None) -> str:
    """The searchable context of a turn: its day, the turn before and the turn after."""
    parts = [_day(at)]
    parts += [_short(t) for t in (previous, following) if t]
    return " \n".join(parts)


def embedding_text(content: str, context: str | None, *, with_context: bool | None = None) -> str:
    """What is embedded for a memory: the turn, then its context if ``EMBED_CONTEXT``."""
    use = EMBED_CONTEXT if with_context is None else with_context
    return f"{content}\n{context}" if context and use else content


def neighbour_contexts(turns: Sequence[Turn]) -> list[str]:
    """The context of every turn of one conversation, in order.

    Neighbours count only within the same session (a new session is a new talk).
    """
    out = []
    for i, turn in enumerate(turns):
        prev = turns[i - 1] if i > 0 and turns[i - 1].session == turn.session else None
        nxt = turns[i + 1] if i + 1 < len(turns) and turns[i + 1].session == turn.session else None
        out.append(
            context_text(turn.at, prev.content if prev else None, nxt.content if nxt else None)
        )
    return out
