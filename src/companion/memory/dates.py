"""Relative dates in messages, resolved against the message time (no I/O).

"yesterday", "last week", "3 days ago", "next Friday", "in two weeks" become a date, so
a fact said on 2023-05-08 ("I adopted a dog yesterday") keeps 2023-05-07 after the
words "yesterday" stop meaning anything. Queries use the same vocabulary to detect
time-aware questions and the window they name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

__all__ = ["ResolvedDate", "is_temporal_query", "query_window", "resolve_relative"]

_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3,
}  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_NUM = r"(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|couple of|few)"
_AGO = re.compile(rf"\b{_NUM}\s+(day|week|month|year)s?\s+ago\b")
_IN = re.compile(rf"\bin\s+{_NUM}\s+(day|week|month|year)s?\b")
_WEEKDAY = re.compile(r"\b(last|next|this|on)?\s*(" + "|".join(_WEEKDAYS) + r")\b")
_SIMPLE = {
    "today": 0, "tonight": 0, "this morning": 0, "this evening": 0, "yesterday": -1,
    "tomorrow": 1, "last night": -1, "last week": -7, "next week": 7,
    "last month": -30, "next month": 30, "last year": -365, "next year": 365,
    "the day before yesterday": -2, "the day after tomorrow": 2,
}  # fmt: skip
_SIMPLE_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(k) for k in _SIMPLE), key=len, reverse=True)) + r")\b"
)
_WEEKEND = re.compile(r"\b(last|this|next|the) weekend\b")
_TEMPORAL = re.compile(
    r"\b(when|what (?:date|day|time|year|month)|how long ago|since when|ago|yesterday|"
    r"today|tomorrow|last|next|recently|before|after|during|(?:19|20)\d\d|january|"
    r"february|march|april|may|june|july|august|september|october|november|december)\b"
)


@dataclass(frozen=True)
class ResolvedDate:
    """A date found in a text: the words that said it and the day they mean."""

    phrase: str
    day: date


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS.get(word, 1)


def _weekday(match: re.Match[str], at: date) -> date:
    which, name = (match.group(1) or "").strip(), match.group(2)
    delta = _WEEKDAYS.index(name) - at.weekday()
    if which == "last":
        return at + timedelta(days=delta - 7 if delta >= 0 else delta)
    if which == "next":
        return at + timedelta(days=delta + 7 if delta <= 0 else delta)
    # "on Friday" / "this Friday": the coming one, or today.
    return at + timedelta(days=delta % 7)


def resolve_relative(text: str, at: datetime) -> ResolvedDate | None:
    """The first relative date in ``text``, as a calendar day relative to ``at``.

    Args:
        text: the message.
        at: when the message was written (its own timestamp, not "now").

    Returns:
        The phrase and the day, or None if the text names no relative date.
    """
    lowered, day = text.lower(), at.date()
    for pattern, sign in ((_AGO, -1), (_IN, 1)):
        match = pattern.search(lowered)
        if match:
            days = _count(match.group(1)) * _UNIT_DAYS[match.group(2)] * sign
            return ResolvedDate(match.group(0), day + timedelta(days=days))
    match = _WEEKEND.search(lowered)
    if match:  # a weekend is named by its Saturday
        saturday = day + timedelta(days=(5 - day.weekday()) % 7 if day.weekday() != 6 else -1)
        shift = {"last": -7, "next": 7}.get(match.group(1), 0)
        return ResolvedDate(match.group(0), saturday + timedelta(days=shift))
    match = _SIMPLE_RE.search(lowered)
    if match:
        return ResolvedDate(match.group(0), day + timedelta(days=_SIMPLE[match.group(1)]))
    match = _WEEKDAY.search(lowered)
    if match:
        return ResolvedDate(match.group(0).strip(), _weekday(match, day))
    return None


def is_temporal_query(query: str) -> bool:
    """Whether the query asks about time ("when…", "last week", a year, a month)."""
    return _TEMPORAL.search(query.lower()) is not None


_PRESENT = re.compile(
    r"\b(now|right now|currently|current|these days|nowadays|at the moment|anymore|still|"
    r"latest|lately|at present)\b"
)


def asks_about_now(query: str) -> bool:
    """Whether the query asks how things stand now ("where does she work now?")."""
    return _PRESENT.search(query.lower()) is not None


def query_window(query: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The time range a query names ("yesterday", "last week"), or None.

    The window is generous (the named day or week ± a day) because people are vague.
    """
    resolved = resolve_relative(query, now)
    if resolved is None:
        return None
    span = 8 if "week" in resolved.phrase else 31 if "month" in resolved.phrase else 1
    start = datetime.combine(resolved.day, datetime.min.time(), tzinfo=now.tzinfo)
    return start - timedelta(days=1), start + timedelta(days=span)
