"""``build_security``: the detector (patterns + shipped classifier) and the service.

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
    from companion.settings import SecuritySettings
    from companion.store.database import Database
    from companion.store.kv import MemoryStore, RedisStore

__all__ = ["build_detector", "build_security"]

log = logging.getLogger(__name__)


async def build_detector(*, judge: Any = None, act_threshold: float = 0.7) -> Detector:
    """A detector with the shipped classifier and, when given, the LLM judge."""
    return Detector(judge=judge, act_threshold=act_threshold)


async def build_security(
    *, settings: SecuritySettings, db: Database, kv: RedisStore | MemoryStore, models: Any = None
) -> SecurityService:
    """The security service (``models`` are optional: patterns always work)."""
    judge = getattr(models, "fast", None) if settings.security_llm_judge else None
    detector = await build_detector(
        judge=judge, act_threshold=settings.security_confidence_threshold
    )
    meta = detector.classifier.meta if detector.classifier else {}
    log.info(
        "security ready",
        extra={"classifier": meta.get("version", "none"), "judge": judge is not None},
    )
    return SecurityService(db=db, kv=kv, settings=settings, detector=detector)
