"""Personality tables: versioned state, quirks, needs, style-trait versions."""

from __future__ import annotations

from companion.personality.models.need import Need
from companion.personality.models.quirk import Quirk
from companion.personality.models.state import PersonalityState
from companion.personality.models.style import StyleTraitVersion

__all__ = ["Need", "PersonalityState", "Quirk", "StyleTraitVersion"]
