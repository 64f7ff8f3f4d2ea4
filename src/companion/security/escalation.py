"""Escalation policy (pure): offences in the window → level → action.

The Discord design: repeat-offender threshold 3; levels 1 warning, 2 restriction, 3 suspension.
Every acted-on message is deflected in character. The third offence inside the
window (SECURITY_OFFENSE_WINDOW_DAYS) earns a warning, the fourth a restriction and
the fifth a suspension. Levels persist on ``users.security_level`` until an admin
lifts them; a restricted user is judged at the lower incident threshold.
"""

from __future__ import annotations

from companion.conversation.ports import SecurityAction

__all__ = [
    "LEVEL_NONE",
    "LEVEL_RESTRICTED",
    "LEVEL_SUSPENDED",
    "LEVEL_WARNED",
    "REPEAT_OFFENDER_THRESHOLD",
    "action_for",
    "level_for",
]

REPEAT_OFFENDER_THRESHOLD = 3
LEVEL_NONE, LEVEL_WARNED, LEVEL_RESTRICTED, LEVEL_SUSPENDED = 0, 1, 2, 3


def level_for(offences: int, *, threshold: int = REPEAT_OFFENDER_THRESHOLD) -> int:
    """The level earned by ``offences`` counted offences in the window."""
    if offences < threshold:
        return LEVEL_NONE
    return min(LEVEL_SUSPENDED, LEVEL_WARNED + offences - threshold)


def action_for(level: int) -> SecurityAction:
    """What the pipeline does with a flagged message from a user at ``level``."""
    if level >= LEVEL_SUSPENDED:
        return "suspended"
    if level == LEVEL_RESTRICTED:
        return "restrict"
    return "block"
