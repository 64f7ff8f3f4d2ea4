"""Engine values rendered as Telegram HTML for the commands; pure, every value escaped."""

from __future__ import annotations

from companion.channels.client import (
    IncidentItem,
    MemoryItem,
    PersonalityView,
    ProactiveSettings,
    Status,
    SystemStatus,
)
from companion.channels.telegram.markup import escape

__all__ = [
    "help_text",
    "incidents_text",
    "memories_text",
    "personality_text",
    "proactive_text",
    "status_text",
    "system_status_text",
    "uptime_text",
    "welcome_text",
]

_MAX_MEMORY = 200
_MAX_INCIDENT = 120

#: (command, description) as registered with ``setMyCommands``, in menu order.
USER_COMMANDS = (
    ("start", "Meet your companion and choose its personality"),
    ("companion", "Your companions: switch between them"),
    ("memories", "What I remember (add words to search)"),
    ("forget", "Forget one memory, or all of them"),
    ("personality", "My mood, traits and needs"),
    ("proactive", "Whether and when I may write first"),
    ("reset", "Start this conversation afresh (memories stay)"),
    ("export", "Everything I keep about you, as a file"),
    ("deletemydata", "Delete everything I keep about you (asks first)"),
    ("help", "What I can do"),
)
ADMIN_COMMANDS = (
    ("status", "(admin) Uptime, users, turns, model, errors"),
    ("incidents", "(admin) Latest security incidents"),
)


def _bar(value: float, *, low: float = 0.0, high: float = 1.0, width: int = 10) -> str:
    filled = round((min(max(value, low), high) - low) / (high - low) * width)
    return "█" * filled + "░" * (width - filled)


def _pad_lines(pad: dict[str, float]) -> str:
    return "\n".join(
        f"{escape(name.title()):<9} {_bar(value, low=-1.0)} {value:+.2f}"
        for name, value in pad.items()
    )


def welcome_text(status: Status, *, companions: int = 1) -> str:
    """``/start``: who the companion is and what to do next."""
    name = escape(status.name)
    several = (
        f"You have {companions} companions: tap a name below to talk with another "
        "(or use /companion).\n\n"
        if companions > 1
        else ""
    )
    return (
        f"Hi, I'm <b>{name}</b> — a companion who remembers what you tell me, "
        "has moods of my own, and sometimes writes first.\n\n"
        f"{several}"
        f"Right now I'm a <i>{escape(status.preset.replace('_', ' '))}</i>. "
        "Pick the personality you'd like me to have below, set your time zone with "
        "<code>/proactive timezone Europe/Paris</code>, or just say hello.\n\n"
        "/help lists everything I can do."
    )


def help_text(*, admin: bool) -> str:
    """``/help``: the commands this user may use."""
    lines = ["Just write to me — I answer every message. Commands:"]
    lines += [f"/{name} — {escape(text)}" for name, text in USER_COMMANDS]
    if admin:
        lines += [f"/{name} — {escape(text)}" for name, text in ADMIN_COMMANDS]
    lines.append("\nIn groups, mention me or reply to one of my messages.")
    return "\n".join(lines)


def status_text(status: Status) -> str:
    """Emotion, mood and urgent needs."""
    needs = ", ".join(status.urgent_needs) if status.urgent_needs else "nothing pressing"
    return (
        f"<b>{escape(status.name)}</b> feels <i>{escape(status.emotion)}</i>\n"
        f"<pre>{_pad_lines(status.pad)}</pre>\nUrgent needs: {escape(needs)}"
    )


def personality_text(view: PersonalityView) -> str:
    """``/personality``: Big Five, mood, quirks, style traits and urgent needs."""
    traits = "\n".join(
        f"{escape(k.title()):<17} {_bar(v)} {v:.2f}" for k, v in view.big_five.items()
    )
    style = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in view.style.items())
    quirks = ", ".join(view.quirks) or "none yet"
    return "\n".join(
        [
            f"<b>{escape(view.name)}'s personality</b> "
            f"(preset: {escape(view.preset.replace('_', ' '))})",
            f"<pre>{traits or '-'}</pre>",
            f"<b>Mood</b>: {escape(view.emotion)}",
            f"<pre>{_pad_lines(view.pad)}</pre>",
            f"<b>Style</b>: {escape(style or 'still forming')}",
            f"<b>Quirks</b>: {escape(quirks)}",
        ]
    )


def memories_text(items: list[MemoryItem], *, heading: str) -> str:
    """A list of memories with their ids (for ``/forget``)."""
    if not items:
        return "I don't have any memories to show yet."
    lines = [escape(heading)]
    for item in items:
        content = item.content
        if len(content) > _MAX_MEMORY:
            content = content[: _MAX_MEMORY - 1] + "…"
        lines.append(f"• {escape(content)}\n  <code>/forget {escape(item.id)}</code>")
    return "\n".join(lines)


def proactive_text(settings: ProactiveSettings) -> str:
    """One line summarising the proactive settings, and how to change them."""
    state = "on" if settings.enabled else "off"
    quiet = escape(settings.quiet_hours or "none")
    return (
        f"Proactive messages are <b>{state}</b> · quiet hours: {quiet} · "
        f"time zone: {escape(settings.timezone)}\n"
        "Change with <code>/proactive on</code>, <code>/proactive off</code>, "
        "<code>/proactive quiet 22-08</code> or <code>/proactive timezone Europe/Paris</code>."
    )


def uptime_text(seconds: float) -> str:
    """``3d 4h 5m`` style."""
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    parts.append(f"{minutes}m")
    return " ".join(parts)


def system_status_text(status: SystemStatus, *, uptime_seconds: float) -> str:
    """``/status`` for admins."""
    models = ", ".join(status.models) or "none configured"
    return "\n".join(
        [
            "<b>Companion status</b>",
            f"Uptime (this bot): {uptime_text(uptime_seconds)}",
            f"Users: {status.users}",
            f"Turns/min (last 5 min): {status.turns_per_minute:.1f}",
            f"Turns in 24 h: {status.turns_last_24h}",
            f"Errors in 24 h: {status.errors_last_24h}",
            f"Chat model: {escape(models)}",
        ]
    )


def incidents_text(items: list[IncidentItem]) -> str:
    """``/incidents`` for admins: newest first, content shortened."""
    if not items:
        return "No security incidents recorded."
    lines = ["<b>Latest security incidents</b>"]
    for item in items:
        content = item.content.replace("\n", " ")
        if len(content) > _MAX_INCIDENT:
            content = content[: _MAX_INCIDENT - 1] + "…"
        lines.append(
            f"#{item.id} {escape(item.detected_at[:16])} <code>{escape(item.user_id)}</code> "
            f"{escape(item.category)} ({item.confidence:.2f}, {escape(item.action)})\n"
            f"  “{escape(content)}”"
        )
    return "\n".join(lines)
