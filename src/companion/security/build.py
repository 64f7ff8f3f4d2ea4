"""``build_security(runtime)``: the detector (patterns + shipped classifier) and the service.

The classifier's weights load from the package (no network, no embedding); the judge
is the ``fast`` model, asked only when SECURITY_LLM_JUDGE is on and that model is
capable.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from companion.security.detector import Detector
from companion.security.service import SecurityService

if TYPE_CHECKING:
    from companion.runtime import Runtime

__all__ = ["build_detector", "build_security"]

log = logging.getLogger(__name__)


async def build_detector(*, judge: Any = None, act_threshold: float = 0.7) -> Detector:
    """A detector with the shipped classifier and, when given, the LLM judge."""
    return Detector(judge=judge, act_threshold=act_threshold)


async def build_security(runtime: Runtime) -> SecurityService:
    """The security service of ``runtime`` (models are optional: patterns always work)."""
    models = runtime.models
    judge = getattr(models, "fast", None) if runtime.settings.security.security_llm_judge else None
    detector = await build_detector(
        judge=judge, act_threshold=runtime.settings.security.security_confidence_threshold
    )
    meta = detector.classifier.meta if detector.classifier else {}
    log.info(
        "security ready",
        extra={"classifier": meta.get("version", "none"), "judge": judge is not None},
    )
    return SecurityService(
        db=runtime.db, kv=runtime.kv, settings=runtime.settings.security, detector=detector
    )
