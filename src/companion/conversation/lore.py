"""Lorebook entries (from character cards) triggered by keywords in recent turns. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LoreEntry", "triggered"]


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


def _hit(entry: LoreEntry, text: str) -> bool:
    flags = 0 if entry.case_sensitive else re.IGNORECASE
    return any(
        key.strip() and re.search(rf"(?<!\w){re.escape(key.strip())}(?!\w)", text, flags)
        for key in entry.keys
    )


def triggered(
    entries: Sequence[LoreEntry], recent: Sequence[str], *, depth: int = 3, limit: int = 8
) -> list[LoreEntry]:
    """Enabled entries that are constant or whose keys appear (whole words) in the last
    ``depth`` texts, in ascending ``order`` (lower first, as the V2 spec says), at most
    ``limit``."""
    text = "\n".join(recent[-depth:]) if depth > 0 else ""
    hits = [e for e in entries if e.enabled and (e.constant or _hit(e, text))]
    return sorted(hits, key=lambda e: e.order)[:limit]
