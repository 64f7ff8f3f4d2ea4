"""Precision and recall of the rule fact extractor on a labelled set of chat messages.

Each line of a labelled JSONL file is ``{"text": ..., "facts": [[fragment, ...], ...]}``:
one message written by the user ``User`` at a fixed time (``LABEL_TIME``, a Wednesday),
and the facts it should yield. An expected fact is a list of fragments that must all
appear in one extracted fact's content (case-insensitive); a fragment starting with
``!`` must not appear ("moved to Lisbon" must not carry next week's date). Each
extracted fact matches at most one expected fact. Precision is the share of extracted
facts that match one; recall is the share of expected facts matched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from companion.memory.facts import extract_facts

__all__ = ["LABEL_TIME", "FactScore", "load_labelled", "matches", "score_extractor"]

#: The time every labelled message was written (relative dates resolve against it).
LABEL_TIME = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@dataclass
class FactScore:
    """Counts over a labelled set, and the messages that went wrong."""

    extracted: int = 0
    expected: int = 0
    correct_extracted: int = 0
    found_expected: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """Matched extracted facts / extracted facts (1.0 when nothing was extracted)."""
        return self.correct_extracted / self.extracted if self.extracted else 1.0

    @property
    def recall(self) -> float:
        """Matched expected facts / expected facts (1.0 when nothing was expected)."""
        return self.found_expected / self.expected if self.expected else 1.0


def matches(content: str, fragments: Sequence[str]) -> bool:
    """Whether ``content`` has every required fragment and none of the ``!`` ones."""
    lowered = content.lower()
    for fragment in fragments:
        if fragment.startswith("!"):
            if fragment[1:].lower() in lowered:
                return False
        elif fragment.lower() not in lowered:
            return False
    return True


def load_labelled(path: Path) -> list[tuple[str, list[list[str]]]]:
    """The (message, expected facts) pairs of a labelled JSONL file."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            rows.append((str(item["text"]), [list(f) for f in item["facts"]]))
    return rows


def score_extractor(rows: Iterable[tuple[str, list[list[str]]]]) -> FactScore:
    """Run the rule extractor over ``rows`` and count matches both ways."""
    score = FactScore()
    for text, expected in rows:
        got = [f.content for f in extract_facts(text, speaker="User", at=LABEL_TIME)]
        used: set[int] = set()
        found = 0
        for fragments in expected:
            hit = next(
                (i for i, c in enumerate(got) if i not in used and matches(c, fragments)), None
            )
            if hit is not None:
                used.add(hit)
                found += 1
        score.extracted += len(got)
        score.expected += len(expected)
        score.correct_extracted += len(used)
        score.found_expected += found
        if found < len(expected) or len(used) < len(got):
            score.errors.append({"text": text, "expected": expected, "got": got})
    return score
