"""Character cards (V1/V2/V3): parsing, export, persona block and starting traits."""

from __future__ import annotations

from companion.personality.cards.card import (
    MAX_CARD_BYTES,
    Card,
    apply_macros,
    export_json,
    export_png,
    parse_card,
)
from companion.personality.cards.persona import CARD_FENCE, card_block, traits_from_text

__all__ = [
    "CARD_FENCE",
    "MAX_CARD_BYTES",
    "Card",
    "apply_macros",
    "card_block",
    "export_json",
    "export_png",
    "parse_card",
    "traits_from_text",
]
