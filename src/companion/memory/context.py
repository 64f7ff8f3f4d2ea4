"""A turn's conversational context: what it is searched by besides its own words.

A line like "Yes, twice last summer!" is unfindable alone; with the question before it
("Have you been to Paris?"), the reply after it and the day it was said, both the
embedding and the full-text index know what it is about. The memory returned is still
the turn itself; the context travels in ``memories.context`` (full-text weight B), and
its vector is mixed with a share of its neighbours' vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

__all__ = [
    "NEIGHBOUR_MIX",
    "Turn",
    "context_text",
    "embedding_text",
    "mix_neighbours",
    "neighbour_contexts",
]

#: Characters of a neighbour kept in the context (long monologues would drown the turn).
NEIGHBOUR_CHARS = 300
#: Whether the context is embedded with the turn. Off: a turn with both neighbours is
#: about 3x the tokens, and MiniLM's cost grows with them (measured 2.6x slower per text
#: on LoCoMo turns), which would put imports far below their 300 messages/s goal; the
#: context reaches search through the full-text side instead.
EMBED_CONTEXT = False
#: Share of each neighbour's vector added to a turn's own before normalising. Measured
#: on the LoCoMo dev set with the stored vectors: dense recall@10 0.507 (turn alone),
#: 0.537 (0.3), 0.518 (0.5), 0.405 (1.0); fused with BM25 0.663 → 0.681 at 0.3.
NEIGHBOUR_MIX = 0.3


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


def _sessions(turns: Sequence[Turn]) -> list[tuple[int | None, int | None]]:
    out = []
    for i, turn in enumerate(turns):
        prev = i - 1 if i > 0 and turns[i - 1].session == turn.session else None
        nxt = i + 1 if i + 1 < len(turns) and turns[i + 1].session == turn.session else None
        out.append((prev, nxt))
    return out


def mix_neighbours(
    turns: Sequence[Turn],
    vectors: Sequence[Sequence[float] | None],
    *,
    share: float = NEIGHBOUR_MIX,
) -> list[list[float] | None]:
    """Each turn's vector plus ``share`` of its neighbours' (same session), unit length.

    A contextual vector at no extra embedding cost: the neighbours were embedded anyway.
    A turn without a vector keeps None; a missing neighbour adds nothing.
    """
    mixed: list[list[float] | None] = []
    for i, (prev, nxt) in enumerate(_sessions(turns)):
        own = vectors[i]
        if own is None:
            mixed.append(None)
            continue
        total = np.asarray(own, dtype=np.float64)
        for j in (prev, nxt):
            neighbour = vectors[j] if j is not None else None
            if neighbour is not None:
                total = total + share * np.asarray(neighbour, dtype=np.float64)
        norm = float(np.linalg.norm(total))
        mixed.append((total / norm).tolist() if norm > 0 else list(own))
    return mixed


def neighbour_contexts(turns: Sequence[Turn]) -> list[str]:
    """The context of every turn of one conversation, in order.

    Neighbours count only within the same session (a new session is a new talk).
    """
    out = []
    for turn, (prev, nxt) in zip(turns, _sessions(turns), strict=True):
        before = turns[prev].content if prev is not None else None
        after = turns[nxt].content if nxt is not None else None
        out.append(context_text(turn.at, before, after))
    return out
