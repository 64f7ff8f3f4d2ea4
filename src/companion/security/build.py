"""``build_security(runtime)``: the detector over the training corpus, and the service.

The exemplar vectors are computed once here with the runtime's embedder (batched;
the embedder's own cache makes later starts cheap). Without an embedder the detector
runs normalisation and patterns only; the judge is the ``fast`` model, asked only
when SECURITY_LLM_JUDGE is on and that model is capable.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from companion.llm.base import Embedder
from companion.security.corpus import training
from companion.security.detector import Detector, Screen
from companion.security.normalise import canonical
from companion.security.service import SecurityService
from companion.security.similarity import ExemplarIndex

if TYPE_CHECKING:
    from companion.runtime import Runtime

__all__ = ["build_detector", "build_exemplar_index", "build_security"]

log = logging.getLogger(__name__)


async def build_exemplar_index(embedder: Embedder) -> ExemplarIndex:
    """Embed the training corpus once and keep the vectors in numpy."""
    examples = training()
    vectors = await embedder.embed([canonical(e.text) for e in examples], task="query")
    # Fitting is ~1 s of numpy: keep it off the event loop.
    return await asyncio.to_thread(ExemplarIndex.from_lists, vectors, [e.label for e in examples])


async def build_detector(
    *,
    embedder: Embedder | None = None,
    judge: Any = None,
    act_threshold: float = 0.7,
    screen: Screen = "cue",
) -> Detector:
    """A detector with the embedding classifier when ``embedder`` is given."""
    index = await build_exemplar_index(embedder) if embedder is not None else None
    return Detector(
        embedder=embedder, index=index, judge=judge, act_threshold=act_threshold, screen=screen
    )


async def build_security(runtime: Runtime) -> SecurityService:
    """The security service of ``runtime`` (models are optional: patterns always work)."""
    models = runtime.models
    embedder = getattr(models, "embedder", None)
    judge = getattr(models, "fast", None) if runtime.settings.security.security_llm_judge else None
    detector = await build_detector(
        embedder=embedder,
        judge=judge,
        act_threshold=runtime.settings.security.security_confidence_threshold,
        screen=runtime.settings.security.security_embed_screen,
    )
    log.info(
        "security ready",
        extra={
            "exemplars": len(detector.index) if detector.index else 0,
            "judge": judge is not None,
        },
    )
    return SecurityService(
        db=runtime.db, kv=runtime.kv, settings=runtime.settings.security, detector=detector
    )
