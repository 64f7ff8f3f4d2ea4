"""The layered detector: normalise → patterns → trained classifier → LLM judge.

Patterns are the fast path for the unmistakable: at ``DECISIVE`` they decide alone.
Every other message is scored by the trained classifier (hashed character n-grams and
words, calibrated; ``classifier.py``), which works across languages and needs no
embedding (about a millisecond per check with the patterns; docs/BENCHMARKS.md).
The confidence is the larger of the pattern evidence and the calibrated classifier
probability. The LLM judge is asked for the borderline band ``CUE``-``DECISIVE`` when a
capable ``fast`` model is configured. The detector classifies; it records nothing
(``SecurityService`` does).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from companion.errors import CompanionError
from companion.llm.base import RoleModel
from companion.security.classifier import InjectionClassifier, load_classifier
from companion.security.judge import run_judge
from companion.security.normalise import View, views
from companion.security.patterns import score_patterns

__all__ = ["CUE", "DECISIVE", "DECODED_VIEWS", "Detection", "Detector"]

log = logging.getLogger(__name__)

#: Pattern confidence at which no other layer can change the verdict.
DECISIVE = 0.85
#: The lower edge of the band the LLM judge is asked about.
CUE = 0.5
#: The judge is asked only when the combined confidence lands in this band.
_JUDGE_BAND = (CUE, DECISIVE)
#: Views whose text the classifier also reads: decoded payloads and de-spaced letters
#: hide an instruction the canonical text does not show.
DECODED_VIEWS = ("despaced", "base64", "hex")


@dataclass(frozen=True)
class Detection:
    """A classification: category (None when clean), confidence and the deciding layer."""

    category: str | None
    confidence: float
    layer: str
    indicators: dict[str, object] = field(default_factory=dict)

    def flagged(self, threshold: float) -> bool:
        """Whether this is an attack at ``threshold`` (strictly above the threshold)."""
        return self.category is not None and self.confidence > threshold


class Detector:
    """Classifies messages with the patterns, the trained classifier and the judge."""

    def __init__(
        self,
        *,
        classifier: InjectionClassifier | None = None,
        judge: RoleModel | None = None,
        act_threshold: float = 0.7,
        use_classifier: bool = True,
    ) -> None:
        """Patterns always; the shipped classifier unless ``use_classifier`` is off.

        ``act_threshold`` (SECURITY_CONFIDENCE_THRESHOLD) is the action line the
        classifier's calibration is read against.
        """
        self.act_threshold = act_threshold
        if classifier is None and use_classifier:
            classifier = load_classifier()
        self.classifier = classifier
        self.judge = judge

    async def classify(
        self,
        text: str,
        *,
        previous_offenses: int = 0,
        count_offenses: Callable[[], Awaitable[int]] | None = None,
    ) -> Detection:
        """Judge one message.

        Args:
            text: the raw user message.
            previous_offenses: context for the LLM judge.
            count_offenses: reads that context instead, only when the judge is asked
                (most messages never reach it; the read is a Redis round trip).

        Returns:
            The detection; ``layer`` names the layer that set the verdict.
        """
        text_views = views(text)
        patterns = score_patterns(text_views)
        category, confidence = patterns.best
        indicators: dict[str, object] = {"patterns": list(patterns.hits[:12])}
        layer = "pattern" if category else "none"
        if confidence >= DECISIVE:
            return Detection(category, round(confidence, 4), layer, indicators)
        if self.classifier is not None:
            category, confidence, layer = self._classify(
                text_views, (category, confidence, layer), indicators
            )
        if self._judge_ready() and _JUDGE_BAND[0] <= confidence < _JUDGE_BAND[1]:
            if count_offenses is not None:
                previous_offenses = await count_offenses()
            category, confidence, layer = await self._judge(
                text, (category, confidence, layer), indicators, previous_offenses
            )
        return Detection(category, round(confidence, 4), layer, indicators)

    def _classify(
        self,
        text_views: list[View],
        current: tuple[str | None, float, str],
        indicators: dict[str, object],
    ) -> tuple[str | None, float, str]:
        assert self.classifier is not None
        texts = [text_views[0].text]
        texts += [v.text for v in text_views[1:] if v.name in DECODED_VIEWS]
        best = max((self.classifier.score(t) for t in texts), key=lambda s: s.probability)
        indicators["classifier"] = {"probability": round(best.probability, 4), **best.classes}
        if best.probability <= current[1]:
            return current
        return best.category, best.probability, "classifier"

    def _judge_ready(self) -> bool:
        # ``capable`` is re-read per call: it follows the chain's first live provider.
        return self.judge is not None and bool(self.judge.capable)

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
