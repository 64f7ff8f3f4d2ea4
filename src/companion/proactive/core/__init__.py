"""Pure proactive algorithms: the score, the hard limits, the rule-path inner thought."""

from __future__ import annotations

from companion.proactive.core.evaluate import Evaluation, Features, evaluate
from companion.proactive.core.guardrails import (
    BLOCK_ORDER,
    REPLY_WINDOW_HOURS,
    GuardrailLimits,
    blocked_by,
    in_quiet_hours,
    parse_quiet_hours,
    unblocked,
)
from companion.proactive.core.score import (
    combine,
    need_urgency,
    pattern_score,
    personality_factor,
    primary_trigger,
    recent_contact_penalty,
    timing_score,
)
from companion.proactive.core.thought import (
    FALLBACK_TEMPLATES,
    InnerThought,
    OpenThread,
    ThoughtContext,
    find_open_thread,
    render_message,
    rule_thought,
)

__all__ = [
    "BLOCK_ORDER",
    "FALLBACK_TEMPLATES",
    "REPLY_WINDOW_HOURS",
    "Evaluation",
    "Features",
    "GuardrailLimits",
    "InnerThought",
    "OpenThread",
    "ThoughtContext",
    "blocked_by",
    "combine",
    "evaluate",
    "find_open_thread",
    "in_quiet_hours",
    "need_urgency",
    "parse_quiet_hours",
    "pattern_score",
    "personality_factor",
    "primary_trigger",
    "recent_contact_penalty",
    "render_message",
    "rule_thought",
    "timing_score",
    "unblocked",
]
