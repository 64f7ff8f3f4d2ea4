"""Valence and arousal of a message: VADER plus the feeling cues of ``lexicon``.

VADER scores "I got a new puppy today!" and "my mom passed away" as exactly neutral
and reads only English, so life events and feelings in six languages add their own
valence (``lexicon.CUES``). A cue right after a negation ("not stressed", "no
worries") is skipped, except after "can't stop" and its kin; cues after the last
"but" weigh fully and those before it half, as VADER itself does. Sarcasm ("oh
great, my car broke down again") turns VADER's misplaced positivity negative.

VADER alone is noisy on everyday chat ("tell me a fun fact" scores +0.5) and reads
foreign words as English ("die"), so without any cue its score counts only beyond
``_VADER_ONLY_FLOOR`` and questions count half; with cues it weighs ``_VADER_WITH_CUES``.
The analyzer is created once per process: loading its lexicon takes ~50 ms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from companion.personality.core.lexicon import CUE_PATTERN, CUES, Kind
from companion.types import clamp

__all__ = ["Sentiment", "analyse"]

_VADER_ONLY_FLOOR = 0.45
_VADER_WITH_CUES = 0.4
_NEGATORS = re.compile(
    r"(?<!\w)(?:not|no|never|n't|nicht|kein|keine|pas|jamais|non|nunca|não|nem)(?!\w)|n't"
)
_NOT_A_NEGATION = re.compile(
    r"(?:can'?t|cannot|could ?n'?t|won'?t) stop|no dejo|não paro|non riesco"
)
_SARCASM = re.compile(
    r"(?<!\w)(?:oh (?:great|perfect|wonderful|fantastic|lovely|joy)|just (?:great|perfect|"
    r"wonderful|lovely|what i needed)|yeah,? right|love that for me|thanks a lot|"
    r"great,? (?:just )?great)(?!\w)|^(?:great|perfect|wonderful|fantastic|brilliant|"
    r"lovely|awesome)[,.!]"
)
_BUT = re.compile(r"(?<!\w)(?:but|aber|mais|pero|ma|mas|however)(?!\w)")


@dataclass(frozen=True, slots=True)
class Sentiment:
    """``valence`` in [-1, 1], an arousal hint in {-1, 0, 1} and the dominant feeling."""

    valence: float
    arousal_hint: int
    kind: Kind | None = None


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def _negated(text: str, start: int) -> bool:
    window = " ".join(text[:start].split()[-3:])
    return bool(_NEGATORS.search(window)) and not _NOT_A_NEGATION.search(window + " stop")


def _cue_scores(text: str) -> dict[Kind, float]:
    """Summed valence per kind of feeling, negated cues skipped, pre-"but" cues halved."""
    buts = [m.end() for m in _BUT.finditer(text)]
    pivot = buts[-1] if buts else 0
    scores: dict[Kind, float] = {}
    for match in CUE_PATTERN.finditer(text):
        if _negated(text, match.start()):
            continue
        cue = CUES[int(str(match.lastgroup)[1:])]
        weight = 0.5 if match.start() < pivot else 1.0
        scores[cue.kind] = scores.get(cue.kind, 0.0) + cue.valence * weight
    return scores


def _arousal(valence: float, scores: dict[Kind, float], text: str) -> tuple[int, Kind | None]:
    if valence < 0:
        loss, worry = -scores.get("loss", 0.0), -scores.get("worry", 0.0)
        if loss > worry:
            return -1, "loss"
        return (1, "worry") if worry > 0 else (0, None)
    joy, calm = scores.get("joy", 0.0), scores.get("calm", 0.0)
    if calm > joy and "!" not in text:
        return -1, "calm"
    return (1, "joy") if joy > 0 or "!" in text else (0, None)


def analyse(text: str) -> Sentiment:
    """The valence of ``text``, whether it calms (−1) or agitates (+1), and its kind."""
    lowered = text.lower().replace("’", "'")
    compound = float(_analyzer().polarity_scores(text)["compound"])
    scores = _cue_scores(lowered)
    sarcastic = bool(_SARCASM.search(lowered.strip()))
    if sarcastic:
        compound = min(compound, 0.0) - 0.5
        scores["worry"] = scores.get("worry", 0.0) - 0.3
    cue_total = sum(scores.values())
    if scores:
        # The cues name the event; VADER's reading of the rest weighs less.
        compound *= _VADER_WITH_CUES
    else:
        if lowered.rstrip().endswith("?"):
            compound *= 0.5
        if abs(compound) < _VADER_ONLY_FLOOR:
            compound = 0.0
    valence = clamp(compound + cue_total)
    hint, kind = _arousal(valence, scores, lowered)
    return Sentiment(valence=valence, arousal_hint=hint, kind=kind)
