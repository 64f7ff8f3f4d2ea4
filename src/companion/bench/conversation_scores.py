"""Scoring the replies of ``companion bench conversation``. Pure.

Per reply: did it restate the fact asked about (recall), did the companion call itself
by the user's name (persona confusion), how much it repeats itself (repeated word
trigrams inside the reply, and word 4-grams already said in its earlier replies of the
same chat), whether it started looping (``conversation.loopguard``), its length in
words and sentences, and the time to its first token. ``summarize`` turns a list of
scores into the figures reported.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from companion.conversation.loopguard import loop_cut

__all__ = [
    "ReplyScore",
    "claims_name",
    "echo_rate",
    "recalled",
    "repeated_rate",
    "score_reply",
    "sentence_count",
    "summarize",
]

_WORD = re.compile(r"[\w']+", re.UNICODE)
_SENTENCE = re.compile(r"[^.!?…]*[^\s.!?…][^.!?…]*(?:[.!?…]+|$)")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _grams(words: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def recalled(reply: str, expect: Sequence[str]) -> bool:
    """Whether ``reply`` says any of ``expect`` as whole words (case ignored)."""
    return any(re.search(rf"(?<!\w){re.escape(e)}(?!\w)", reply, re.IGNORECASE) for e in expect)


def claims_name(reply: str, user_name: str) -> bool:
    """Whether the companion introduces itself with the user's name ("I'm Priya")."""
    name = re.escape(user_name)
    pattern = (
        rf"\b(?:i'm|i am|im|my name is|my name's|call me|this is|it's me,?)\s+{name}(?!\w)"
        rf"|^\W*{name}\s+here\b"
    )
    return re.search(pattern, reply.replace("’", "'"), re.IGNORECASE) is not None


def repeated_rate(reply: str, *, n: int = 3) -> float:
    """Share of the reply's word ``n``-grams that repeat an earlier one in it (0 = none)."""
    grams = _grams(_words(reply), n)
    if not grams:
        return 0.0
    return 1 - len(set(grams)) / len(grams)


def echo_rate(reply: str, earlier: Sequence[str], *, n: int = 4) -> float:
    """Share of the reply's word ``n``-grams already said in ``earlier`` replies."""
    grams = _grams(_words(reply), n)
    if not grams:
        return 0.0
    said = {g for text in earlier for g in _grams(_words(text), n)}
    return sum(g in said for g in grams) / len(grams)


def sentence_count(reply: str) -> int:
    """Sentences in ``reply`` (a trailing fragment counts as one)."""
    return sum(1 for m in _SENTENCE.finditer(reply.strip()) if _WORD.search(m.group()))


@dataclass(frozen=True)
class ReplyScore:
    """What one reply scored; ``recall`` is None for turns that ask nothing."""

    chat: str
    turn: int
    user: str
    reply: str
    words: int
    sentences: int
    ttft_ms: float | None
    recall: bool | None
    confused: bool
    repeated: float
    echo: float
    looping: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def score_reply(
    *,
    chat: str,
    turn: int,
    user: str,
    reply: str,
    user_name: str,
    expect: Sequence[str],
    earlier: Sequence[str],
    ttft_ms: float | None,
) -> ReplyScore:
    """Score one reply of a scripted chat (``earlier``: the companion's previous replies)."""
    return ReplyScore(
        chat=chat,
        turn=turn,
        user=user,
        reply=reply,
        words=len(reply.split()),
        sentences=sentence_count(reply),
        ttft_ms=None if ttft_ms is None else round(ttft_ms, 1),
        recall=recalled(reply, expect) if expect else None,
        confused=claims_name(reply, user_name),
        repeated=round(repeated_rate(reply), 4),
        echo=round(echo_rate(reply, earlier), 4),
        looping=loop_cut(reply) is not None,
    )


def _pct(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def summarize(scores: Sequence[ReplyScore]) -> dict[str, Any]:
    """The figures of one run: recall, confusion, repetition, length, time to first token."""
    questions = [s for s in scores if s.recall is not None]
    words = [s.words for s in scores]
    ttft = [s.ttft_ms for s in scores if s.ttft_ms is not None]
    n = len(scores)
    return {
        "replies": n,
        "questions": len(questions),
        "recalled": sum(bool(s.recall) for s in questions),
        "recall_rate": round(sum(bool(s.recall) for s in questions) / len(questions), 3)
        if questions
        else None,
        "confused": sum(s.confused for s in scores),
        "looping": sum(s.looping for s in scores),
        "repeated_trigram_rate": round(statistics.fmean(s.repeated for s in scores), 4)
        if n
        else 0.0,
        "echo_rate": round(statistics.fmean(s.echo for s in scores), 4) if n else 0.0,
        "mean_words": round(statistics.fmean(words), 1) if n else 0.0,
        "median_words": statistics.median(words) if n else 0,
        "over_four_sentences": sum(s.sentences > 4 for s in scores),
        "empty": sum(not s.reply.strip() for s in scores),
        "ttft_p50_ms": _pct(ttft, 0.5),
        "ttft_p95_ms": _pct(ttft, 0.95),
    }
