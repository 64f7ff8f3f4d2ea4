"""Security tables: incidents."""

from __future__ import annotations

from companion.security.models.incident import SecurityIncident

__all__ = ["SecurityIncident"]
