"""Hard limits on proactive messages that no score overrides (DECISIONS.md#quiet-hours).

All inputs are arrays with one element per user, so one call decides a whole pass.
The first limit that applies names the block (``BLOCK_ORDER``). Rules:

* ``suspended``: security suspension (status or level 3) — never.
* ``opted_out``: ``proactive_messaging_enabled`` is false.
* ``quiet_hours``: the user's local time is inside their quiet window
  (default DEFAULT_QUIET_HOURS, e.g. ``23-08``; windows may wrap midnight).
* ``daily_limit``: MAX_PROACTIVE_PER_DAY already sent since local midnight.
* ``min_gap``: the last one was sent less than PROACTIVE_MIN_GAP_HOURS ago.
* ``awaiting_reply``: the last one is unanswered and younger than 12 h — we do not
  pile a second message on one whose outcome is still open.
* ``declined``: a decline less than 24 h ago.
* ``unanswered_pause``: the last two went unanswered (no reply within 12 h): 72 h
  from the moment the second was known to be unanswered (sent + 12 h).
* ``unanswered``: the last one went unanswered: 24 h from sent + 12 h.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BLOCK_ORDER",
    "REPLY_WINDOW_HOURS",
    "GuardrailLimits",
    "blocked_by",
    "in_quiet_hours",
    "parse_quiet_hours",
    "unblocked",
]

REPLY_WINDOW_HOURS = 12.0
DECLINE_COOLDOWN_HOURS = 24.0
UNANSWERED_COOLDOWN_HOURS = 24.0
UNANSWERED_PAUSE_HOURS = 72.0

BLOCK_ORDER = (
    "suspended",
    "opted_out",
    "quiet_hours",
    "daily_limit",
    "min_gap",
    "awaiting_reply",
    "declined",
    "unanswered_pause",
    "unanswered",
)

_QUIET = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*$")


def parse_quiet_hours(text: str) -> tuple[int, int]:
    """``"23-08"`` or ``"22:30-07:15"`` → (start, end) in minutes after local midnight.

    Raises:
        ValueError: malformed text or a time outside 00:00–24:00.
    """
    match = _QUIET.match(text)
    if match is None:
        raise ValueError(f"quiet hours must look like '23-08' or '22:30-07:00', got {text!r}")
    sh, sm, eh, em = (int(g) if g else 0 for g in match.groups())
    start, end = sh * 60 + sm, eh * 60 + em
    if sm > 59 or em > 59 or start > 1440 or end > 1440:
        raise ValueError(f"quiet hours out of range: {text!r}")
    return start % 1440, end % 1440


def in_quiet_hours(minute_of_day: ArrayLike, start: ArrayLike, end: ArrayLike) -> NDArray[np.bool_]:
    """Whether local ``minute_of_day`` lies in ``[start, end)``, wrapping past midnight."""
    m, s, e = (np.asarray(x, dtype=np.int64) for x in (minute_of_day, start, end))
    same_day = (s <= m) & (m < e)
    wrapped = (m >= s) | (m < e)
    return np.where(s == e, False, np.where(s < e, same_day, wrapped))


@dataclass(frozen=True)
class GuardrailLimits:
    """The configurable limits (MAX_PROACTIVE_PER_DAY, PROACTIVE_MIN_GAP_HOURS)."""

    max_per_day: int = 3
    min_gap_hours: float = 4.0


def blocked_by(
    *,
    limits: GuardrailLimits,
    suspended: ArrayLike,
    enabled: ArrayLike,
    quiet: ArrayLike,
    sent_today: ArrayLike,
    hours_since_last: ArrayLike,
    last_answered: ArrayLike,
    hours_since_decline: ArrayLike,
    previous_unanswered: ArrayLike,
) -> NDArray[np.object_]:
    """The first hard limit blocking each user, or ``None`` where none does.

    Args:
        limits: per-day cap and minimum gap.
        suspended: suspended by security.
        enabled: proactive messages enabled by the user.
        quiet: local time inside the quiet window (see ``in_quiet_hours``).
        sent_today: proactive messages sent since local midnight.
        hours_since_last: hours since the last sent proactive message (NaN: none).
        last_answered: the last one got a reply within 12 h.
        hours_since_decline: hours since the latest decline (NaN: none).
        previous_unanswered: the one before the last also went unanswered.
    """
    h = np.asarray(hours_since_last, dtype=np.float64)
    has_last = ~np.isnan(h)
    answered = np.asarray(last_answered, dtype=bool)
    h_known = h - REPLY_WINDOW_HOURS  # hours since the last was known unanswered
    unanswered = has_last & ~answered & (h >= REPLY_WINDOW_HOURS)
    decline = np.asarray(hours_since_decline, dtype=np.float64)
    conditions = [
        np.asarray(suspended, dtype=bool),
        ~np.asarray(enabled, dtype=bool),
        np.asarray(quiet, dtype=bool),
        np.asarray(sent_today) >= limits.max_per_day,
        has_last & (h < limits.min_gap_hours),
        has_last & ~answered & (h < REPLY_WINDOW_HOURS),
        ~np.isnan(decline) & (decline < DECLINE_COOLDOWN_HOURS),
        unanswered
        & np.asarray(previous_unanswered, dtype=bool)
        & (h_known < UNANSWERED_PAUSE_HOURS),
        unanswered & (h_known < UNANSWERED_COOLDOWN_HOURS),
    ]
    shape = np.broadcast(*conditions).shape
    result = np.full(shape, None, dtype=object)
    for name, condition in zip(reversed(BLOCK_ORDER), reversed(conditions), strict=True):
        result = np.where(np.broadcast_to(condition, shape), name, result)
    return result


def unblocked(blocks: NDArray[np.object_]) -> NDArray[np.bool_]:
    """Where ``blocked_by`` found no limit."""
    return np.fromiter((b is None for b in blocks), dtype=bool, count=len(blocks))
