"""Security: layered injection detection, incidents, escalation and prompt hygiene.

``build_security(runtime)`` returns the ``SecurityService`` (the pipeline's
``SecurityPort``). ``assert_prompt_safe``/``redact`` guard model calls and logs.
"""

from __future__ import annotations

from companion.security.build import build_detector, build_security
from companion.security.corpus import Example, load_dataset, training
from companion.security.detector import Detection, Detector
from companion.security.escalation import action_for, level_for
from companion.security.prompt_safety import (
    PromptLeak,
    assert_prompt_safe,
    redact,
    secret_values,
)
from companion.security.repository import IncidentFilter
from companion.security.service import SecurityService, UserSecurity

__all__ = [
    "Detection",
    "Detector",
    "Example",
    "IncidentFilter",
    "PromptLeak",
    "SecurityService",
    "UserSecurity",
    "action_for",
    "assert_prompt_safe",
    "build_detector",
    "build_security",
    "level_for",
    "load_dataset",
    "redact",
    "secret_values",
    "training",
]
