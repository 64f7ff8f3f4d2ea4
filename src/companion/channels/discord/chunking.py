"""Split a reply into Discord-sized messages (the shared splitter at 2000 characters)."""

from __future__ import annotations

from companion.channels.chunking import split_message as _split

__all__ = ["DISCORD_LIMIT", "split_message"]

DISCORD_LIMIT = 2000


def split_message(text: str, *, limit: int = DISCORD_LIMIT) -> list[str]:
    """Split ``text`` into messages of at most ``limit`` characters (see ``channels.chunking``)."""
    return _split(text, limit=limit)
