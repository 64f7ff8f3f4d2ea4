"""The layered detector: normalise → patterns → exemplar similarity → LLM judge.

Cheapest first, and each later layer runs only when it can change the outcome:
patterns decide alone above the action threshold; messages below it pay for an
embedding (cached per text) when they carry pattern evidence (``CUE`` and up) or,
with the ``lexicon`` screen, the vocabulary of attacks; plain chat skips it.
The LLM judge is asked for the band ``CUE``-``DECISIVE``. The detector classifies; it
records nothing (``SecurityService`` does the I/O).
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from companion.errors import CompanionError
from companion.llm.base import Embedder, RoleModel
from companion.security.judge import run_judge
from companion.security.normalise import canonical, views
from companion.security.patterns import score_patterns
from companion.security.similarity import ExemplarIndex, standalone_confidence

__all__ = ["CUE", "DECISIVE", "Detection", "Detector", "Screen"]

log = logging.getLogger(__name__)

#: Pattern confidence at which no other layer can change the verdict.
DECISIVE = 0.85
#: Below this the patterns saw at most one weak cue (a question scores 0.3, a role-play
#: "pretend" 0.35): allowed without embedding. Embedding only the 0.5-0.85 band keeps
#: the embedder off ~95% of checks, so p95 latency stays the patterns' (BENCHMARKS.md).
CUE = 0.5
#: How much the similarity layer's confidence counts next to pattern evidence.
_SIMILARITY_WEIGHT = 0.6
#: The judge is asked only when the combined confidence lands in this band.
_JUDGE_BAND = (0.5, DECISIVE)
_CACHE_SIZE = 2048

#: Which messages the patterns left unflagged still get the embedding classifier:
#: ``cue`` only those with pattern evidence (0.5 up to the action line; the default,
#: ~4% of chat, keeping p95 under 1 ms), ``lexicon`` also those using the vocabulary
#: of attacks (better recall on paraphrases, ~40% of chat pays one embedding),
#: ``all`` every message (SECURITY_EMBED_SCREEN; figures in docs/BENCHMARKS.md).
Screen = Literal["cue", "lexicon", "all"]
#: Words an attack on a companion can hardly avoid (en/es/fr/de); plain chat mostly
#: does without them, so it skips the embedding.
_LEXICON = re.compile(
    r"\b(?:ignor\w*|forget|disregard|pretend|act|role|rules?|instruc\w*|guideline\w*|prompt|"
    r"system\w*|config\w*|settings?|persona\w*|character|filter\w*|limit\w*|restrict\w*|"
    r"boundar\w*|ethic\w*|safety|admin\w*|develop\w*|creator\w*|programm\w*|model|ai|ia|ki|"
    r"assistant|password|key|token|secret|hidden|memory|users?|override|mode|unfilter\w*|"
    r"uncensor\w*|obe\w*|compl\w*|refus\w*|jailbreak|dan|database|server|execute|run|"
    r"reglas|r[eè]gles?|regeln|richtlinien|anweisung\w*|consignes?|sistema|syst[eè]me|"
    r"olv[ií]da\w*|oublie|vergiss|censur\w*)\b"
)


@dataclass(frozen=True)
class Detection:
    """A classification: category (None when clean), confidence and the deciding layer."""

    category: str | None
    confidence: float
    layer: str
    indicators: dict[str, object] = field(default_factory=dict)

    def flagged(self, threshold: float) -> bool:
        """Whether this is an attack at ``threshold`` (strictly above, as SEC-06 says)."""
        return self.category is not None and self.confidence > threshold


class Detector:
    """Classifies messages; holds the exemplar index and an embedding cache."""

    def __init__(
        self,
        *,
        embedder: Embedder | None = None,
        index: ExemplarIndex | None = None,
        judge: RoleModel | None = None,
        act_threshold: float = 0.7,
        screen: Screen = "cue",
    ) -> None:
        """Patterns always; similarity when ``embedder`` and ``index``; judge when given.

        ``act_threshold`` (SECURITY_CONFIDENCE_THRESHOLD): messages the patterns already
        put above it are flagged anyway, so they are not embedded.
        """
        self.act_threshold = act_threshold
        self.screen = screen
        self.embedder = embedder if index is not None else None
        self.index = index
        self.judge = judge
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()

    def clear_cache(self) -> None:
        """Forget cached message embeddings (the benchmark times cold checks)."""
        self._vectors.clear()

    async def classify(self, text: str, *, previous_offenses: int = 0) -> Detection:
        """Judge one message.

        Args:
            text: the raw user message.
            previous_offenses: context for the LLM judge (seed 001).

        Returns:
            The detection; ``layer`` names the last layer that changed the verdict.
        """
        text_views = views(text)
        patterns = score_patterns(text_views)
        category, confidence = patterns.best
        indicators: dict[str, object] = {"patterns": list(patterns.hits[:12])}
        layer = "pattern" if category else "none"
        if confidence >= DECISIVE:
            return Detection(category, round(confidence, 4), layer, indicators)
        if self.embedder is not None and self._needs_embedding(text_views[0].text, confidence):
            category, confidence, layer = await self._similarity(
                text_views[0].text, patterns.scores, (category, confidence, layer), indicators
            )
        if self._judge_ready() and _JUDGE_BAND[0] <= confidence < _JUDGE_BAND[1]:
            category, confidence, layer = await self._judge(
                text, (category, confidence, layer), indicators, previous_offenses
            )
        return Detection(category, round(confidence, 4), layer, indicators)

    def _needs_embedding(self, canonical_text: str, confidence: float) -> bool:
        if confidence > self.act_threshold:
            return False  # flagged already; similarity could not change the action
        if confidence >= CUE or self.screen == "all":
            return True
        return self.screen == "lexicon" and bool(_LEXICON.search(canonical_text))

    def _judge_ready(self) -> bool:
        # ``capable`` is re-read per call: it follows the chain's first live provider.
        return self.judge is not None and bool(self.judge.capable)

    async def _similarity(
        self,
        canonical_text: str,
        scores: dict[str, float],
        current: tuple[str | None, float, str],
        indicators: dict[str, object],
    ) -> tuple[str | None, float, str]:
        vector = await self._embed(canonical_text)
        assert self.index is not None
        result = self.index.score(vector)
        indicators["classifier"] = {k: round(v, 3) for k, v in result.similarities.items()}
        if result.category is None:
            return current
        prior = scores.get(result.category, 0.0)
        if prior < CUE:
            # No pattern evidence for this category: the classifier alone must be
            # very sure (its standalone scale keeps p <= 0.9 under the incident line).
            combined = standalone_confidence(result.confidence)
        else:
            # Pattern evidence of the same category: corroborate (noisy-OR).
            weight = _SIMILARITY_WEIGHT * result.confidence if result.confidence > 0.5 else 0.0
            combined = 1.0 - (1.0 - prior) * (1.0 - weight)
        if combined <= current[1]:
            return current
        return result.category, combined, "embedding"

    async def _embed(self, canonical_text: str) -> list[float]:
        cached = self._vectors.get(canonical_text)
        if cached is not None:
            self._vectors.move_to_end(canonical_text)
            return cached
        assert self.embedder is not None
        (vector,) = await self.embedder.embed([canonical_text], task="query")
        self._vectors[canonical_text] = vector
        if len(self._vectors) > _CACHE_SIZE:
            self._vectors.popitem(last=False)
        return vector

    async def _judge(
        self,
        text: str,
        current: tuple[str | None, float, str],
        indicators: dict[str, object],
        previous_offenses: int,
    ) -> tuple[str | None, float, str]:
        assert self.judge is not None
        try:
            verdict = await run_judge(self.judge, text, previous_offenses=previous_offenses)
        except CompanionError as exc:
            # Parse failure or provider down: the deterministic verdict stands.
            indicators["judge_error"] = type(exc).__name__
            log.info("security judge unavailable", extra={"error": type(exc).__name__})
            return current
        indicators["judge"] = {"threat": verdict.threat, "confidence": verdict.confidence}
        if verdict.threat:
            return verdict.category, max(current[1], verdict.confidence), "llm"
        # The judge says benign: keep the evidence visible, but under the action line.
        return current[0], min(current[1], 0.5), "llm"


def cache_key(text: str) -> str:
    """The text the detector embeds for ``text`` (exposed for tests and the bench)."""
    return canonical(text)
