"""What to do with a new fact given the closest existing ones (no I/O).

ADD a new fact; MERGE it into a near-duplicate (same meaning: cosine ≥ 0.9 and the
same polarity); SUPERSEDE an existing fact that it contradicts (same ``fact_key`` —
subject and attribute — with a different value, or opposite polarity). The caller
never deletes on contradiction: it closes the old fact's validity
(DECISIONS.md#memory-never-deletes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np

__all__ = ["DUPLICATE_COSINE", "Decision", "ExistingFact", "cosine", "decide", "normalise_text"]

#: Near-duplicate threshold.
DUPLICATE_COSINE = 0.9
#: With the same key, only a near-verbatim restatement merges: "lives in Berlin" and
#: "lives in Munich" are ~0.9 apart in MiniLM and must supersede, not merge.
SAME_KEY_COSINE = 0.97
_NEGATIVE = re.compile(r"\b(dislikes|hates|not|no longer|never|doesn't|don't|stopped)\b")


@dataclass(frozen=True)
class ExistingFact:
    """A current fact to compare against."""

    id: str
    fact_key: str | None
    content: str
    vector: Sequence[float] | None
    #: When the fact was stated (``None``: not known to the caller).
    valid_from: datetime | None = None
    #: Its cosine similarity to the new fact's vector when the reader computed it
    #: already (the database, next to the row: the vector itself is then not read);
    #: ``None``: ``decide`` computes it from ``vector``.
    similarity: float | None = None


@dataclass(frozen=True)
class Decision:
    """``add``, ``merge`` into ``target``, or ``supersede`` ``target``; and why."""

    action: Literal["add", "merge", "supersede"]
    target: str | None = None
    similarity: float = 0.0
    method: str = ""


def normalise_text(text: str) -> str:
    """Lower case, single spaces, no trailing punctuation: for exact-duplicate checks."""
    return re.sub(r"\s+", " ", text.lower()).strip(" .!?")


def cosine(a: Sequence[float] | None, b: Sequence[float] | None) -> float:
    """Cosine similarity; 0 when either vector is missing or zero."""
    if a is None or b is None or len(a) != len(b):
        return 0.0
    va, vb = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    denom = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb) / denom if denom > 0 else 0.0


def _negative(text: str) -> bool:
    return _NEGATIVE.search(text.lower()) is not None


def decide(
    content: str,
    fact_key: str | None,
    vector: Sequence[float] | None,
    existing: Sequence[ExistingFact],
) -> Decision:
    """Reconcile one new fact with the current facts of the same user.

    Same key: identical or near-identical with the same polarity → merge, otherwise
    supersede (method ``fact_key``). Different or no key: cosine ≥ 0.9 and the same
    polarity → merge (``near_duplicate``). Anything else → add.
    """
    text = normalise_text(content)
    best: Decision = Decision("add")
    for fact in existing:
        similarity = fact.similarity if fact.similarity is not None else cosine(vector, fact.vector)
        same_meaning = normalise_text(fact.content) == text or (
            similarity >= DUPLICATE_COSINE and _negative(fact.content) == _negative(content)
        )
        if fact_key is not None and fact.fact_key == fact_key:
            verbatim = normalise_text(fact.content) == text or (
                similarity >= SAME_KEY_COSINE and _negative(fact.content) == _negative(content)
            )
            if verbatim:
                return Decision("merge", fact.id, similarity, "same_fact")
            return Decision("supersede", fact.id, similarity, "fact_key")
        if same_meaning and similarity >= best.similarity:
            best = Decision("merge", fact.id, similarity, "near_duplicate")
    return best
