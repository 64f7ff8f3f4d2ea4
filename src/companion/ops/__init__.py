"""Running Companion in production: readiness checks (``doctor --production``)."""

from __future__ import annotations

from companion.ops.production import Check, production_checks

__all__ = ["Check", "production_checks"]
