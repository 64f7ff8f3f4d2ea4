"""Proactive tables: decisions (with their delivery)."""

from __future__ import annotations

from companion.proactive.models.decision import ProactiveDecision

__all__ = ["ProactiveDecision"]
