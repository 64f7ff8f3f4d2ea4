"""Checks for the settings users type into a chat (quiet hours, time zones)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from companion.errors import InvalidInput

__all__ = ["validate_quiet_hours", "validate_timezone"]

_HOURS = re.compile(r"^\s*(\d{1,2})(?::00)?\s*-\s*(\d{1,2})(?::00)?\s*$")


def validate_quiet_hours(text: str) -> str:
    """Normalise ``"22-8"`` / ``"22:00-08:00"`` to ``"22-08"``; reject anything else."""
    match = _HOURS.match(text)
    if match is None:
        raise InvalidInput(f"quiet hours must look like 22-08, got {text!r}")
    start, end = (int(group) for group in match.groups())
    if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
        raise InvalidInput("quiet hours are two different hours between 0 and 23, like 22-08")
    return f"{start:02d}-{end:02d}"


def validate_timezone(name: str) -> str:
    """Return ``name`` if it is an IANA time zone such as ``Europe/Paris``."""
    cleaned = name.strip()
    try:
        ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}; use a name like Europe/Paris") from None
    return cleaned
