"""Proactive tables: decisions (with their delivery) and cached activity patterns."""

from __future__ import annotations

from companion.proactive.models.activity import ProactiveActivity
from companion.proactive.models.decision import ProactiveDecision

__all__ = ["ProactiveActivity", "ProactiveDecision"]
