"""Lorebook entries (from character cards) triggered by keywords in recent turns. Pure.

Follows the Character Card V2 ``character_book``: an entry is scanned for when it is
``enabled``; ``constant`` entries always enter; otherwise one of its ``keys`` must
appear (as whole words, case ignored unless ``case_sensitive``) in the last
``scan_depth`` texts, and a ``selective`` entry also needs one of its
``secondary_keys``. Entries enter in ascending ``insertion_order``; when they do not
all fit the token budget, the lowest ``priority`` ones are dropped first. ``position``
says whether an entry goes before the character's definition or after it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["LORE_TOKENS", "LoreEntry", "triggered"]

#: Most tokens the triggered entries take together (about 3.2 characters a token).
LORE_TOKENS = 400
#: Most characters one entry contributes.
ENTRY_CHARS = 800


@dataclass(frozen=True)
class LoreEntry:
    """One entry: enters the prompt when a key appears in the scanned turns."""

    keys: tuple[str, ...]
    content: str
    enabled: bool = True
    order: int = 0
    constant: bool = False
    case_sensitive: bool = False
    name: str = ""
    #: With ``selective``, one of these must appear too.
    secondary_keys: tuple[str, ...] = ()
    selective: bool = False
    #: Under a tight budget, lower priority is dropped first.
    priority: int = 0
    position: Literal["before_char", "after_char"] = "after_char"


def _any_key(keys: Sequence[str], text: str, *, case_sensitive: bool) -> bool:
    flags = 0 if case_sensitive else re.IGNORECASE
    return any(
        key.strip() and re.search(rf"(?<!\w){re.escape(key.strip())}(?!\w)", text, flags)
        for key in keys
    )


def _hit(entry: LoreEntry, text: str) -> bool:
    if not _any_key(entry.keys, text, case_sensitive=entry.case_sensitive):
        return False
    if entry.selective and entry.secondary_keys:
        return _any_key(entry.secondary_keys, text, case_sensitive=entry.case_sensitive)
    return True


def _cost(entry: LoreEntry) -> int:
    return int(min(len(entry.content), ENTRY_CHARS) / 3.2) + 2


def triggered(
    entries: Sequence[LoreEntry],
    recent: Sequence[str],
    *,
    depth: int = 3,
    limit: int = 8,
    budget: int = LORE_TOKENS,
) -> list[LoreEntry]:
    """Enabled entries that are constant or whose keys appear (whole words) in the last
    ``depth`` texts, within ``limit`` entries and ``budget`` tokens (highest
    ``priority`` kept first), in ascending ``order`` (lower first, as the V2 spec says)."""
    text = "\n".join(recent[-depth:]) if depth > 0 else ""
    hits = [e for e in entries if e.enabled and (e.constant or _hit(e, text))]
    kept: list[LoreEntry] = []
    used = 0
    for entry in sorted(hits, key=lambda e: (-e.priority, e.order)):
        if len(kept) < limit and used + _cost(entry) <= budget:
            kept.append(entry)
            used += _cost(entry)
    return sorted(kept, key=lambda e: e.order)
