"""A sense of time for the prompt: the user's local date, weekday, time of day, how
long since the last conversation ("it's been three days"), and the calendar days the
user's relative dates mean ("next Friday" = Friday 4 December 2026), resolved by the
same rules memory uses to date facts (``companion.memory.dates``). Pure."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["date_notes", "elapsed_phrase", "part_of_day", "time_context"]

_NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def _count(n: int, unit: str) -> str:
    if n == 1:
        return ("an " if unit == "hour" else "a ") + unit
    return f"{_NUMBERS[n] if n < len(_NUMBERS) else n} {unit}s"


def part_of_day(hour: int) -> str:
    """Night (0–4), morning (5–11), afternoon (12–16), evening (17–21), night (22–23)."""
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 22:
        return "evening"
    return "night"


def _when(hour: int) -> str:
    part = part_of_day(hour)
    return "at night" if part == "night" else f"in the {part}"


def elapsed_phrase(seconds: float) -> str | None:
    """ "three days", "an hour", "two weeks"…; ``None`` under 30 minutes (same talk)."""
    minutes = seconds / 60
    if minutes < 30:
        return None
    hours = minutes / 60
    if hours < 1.5:
        return "an hour"
    if hours < 24:
        return _count(round(hours), "hour")
    days = hours / 24
    if days < 1.5:
        return "a day"
    if days < 14:
        return _count(round(days), "day")
    if days < 60:
        return _count(round(days / 7), "week")
    if days < 365:
        return _count(round(days / 30.4), "month")
    return _count(round(days / 365), "year")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def time_context(
    now: datetime, *, timezone: str, last_talk: datetime | None, compact: bool = False
) -> str:
    """One or two sentences for the system prompt, in the user's timezone.

    An unknown timezone falls back to UTC. ``last_talk`` is the previous exchange; a
    first conversation says so, a gap under 30 minutes says nothing. ``compact`` is the
    small-model line (``conversation.profile``): the same date, part of the day and
    gap in fewer tokens, the time to the hour, without the zone's name.
    """
    zone = _zone(timezone)
    local = _local(now, timezone)
    gap = None if last_talk is None else elapsed_phrase((now - last_talk).total_seconds())
    if compact:
        # To the hour, not the minute: the line then stays the same for the turns of
        # an hour, and the embedded model reads it (and what follows it) ahead.
        text = (
            f"Their time: {local:%A}, {local.day} {local:%B %Y}, between {local:%H}:00 and "
            f"{(local.hour + 1) % 24:02d}:00 ({part_of_day(local.hour)})."
        )
        if last_talk is None:
            return text + " You are meeting them for the first time."
        return text + (f" Last talk: {gap} ago." if gap is not None else "")
    text = (
        f"It is {local:%A}, {local.day} {local:%B %Y}, {local:%H:%M} {_when(local.hour)} "
        f"for the person you are talking with ({zone.key})."
    )
    if last_talk is None:
        return text + " This is your first conversation with them."
    if gap is not None:
        text += f" It's been {gap} since you last talked."
    return text


def _local(now: datetime, timezone: str) -> datetime:
    return (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(_zone(timezone))


def date_notes(message: str, *, now: datetime, timezone: str, limit: int = 3) -> str | None:
    """The days the relative dates in ``message`` mean, in the user's timezone.

    "See you next Friday, I was ill yesterday" on Monday 30 November 2026 gives
    ``In their message, "next friday" is Friday 4 December 2026 and "yesterday" is
    Sunday 29 November 2026.`` Phrases that mean today say nothing new (the clock line
    says it); ``None`` when nothing is left.
    """
    from companion.memory.dates import resolve_relative  # the resolver memory uses

    local = _local(now, timezone)
    rest = message.lower()
    found: list[tuple[int, str]] = []
    for _ in range(limit * 2):
        hit = resolve_relative(rest, local)
        if hit is None:
            break
        at = rest.find(hit.phrase)
        rest = rest[:at] + " " * len(hit.phrase) + rest[at + len(hit.phrase) :]
        if hit.day != local.date():
            found.append((at, f'"{hit.phrase}" is {hit.day:%A} {hit.day.day} {hit.day:%B %Y}'))
    if not found:
        return None
    return "In their message, " + " and ".join(t for _, t in sorted(found)[:limit]) + "."
