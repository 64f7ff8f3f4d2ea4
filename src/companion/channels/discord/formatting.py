"""Engine values rendered for Discord (embeds and short lines); no I/O."""

from __future__ import annotations

import discord

from companion.channels.client import (
    CompanionItem,
    MemoryItem,
    PersonalityView,
    ProactiveSettings,
    Status,
)

__all__ = [
    "companions_embed",
    "memories_text",
    "personality_embed",
    "proactive_text",
    "status_embed",
]

_COLOUR = discord.Colour.teal()


def _bar(value: float, *, low: float = 0.0, high: float = 1.0, width: int = 10) -> str:
    filled = round((min(max(value, low), high) - low) / (high - low) * width)
    return "█" * filled + "░" * (width - filled)


def _pad_lines(pad: dict[str, float]) -> str:
    return "\n".join(
        f"{name.title():<9} {_bar(value, low=-1.0)} {value:+.2f}" for name, value in pad.items()
    )


def status_embed(status: Status) -> discord.Embed:
    """``/companion status``: emotion, mood (PAD) and urgent needs."""
    embed = discord.Embed(title=f"{status.name} feels {status.emotion}", colour=_COLOUR)
    embed.add_field(name="Mood", value=f"```\n{_pad_lines(status.pad)}\n```", inline=False)
    needs = ", ".join(status.urgent_needs) if status.urgent_needs else "nothing pressing"
    embed.add_field(name="Urgent needs", value=needs, inline=False)
    embed.set_footer(text=f"personality: {status.preset}")
    return embed


def companions_embed(items: list[CompanionItem]) -> discord.Embed:
    """``/companion list``: every companion of the user, the active one marked."""
    lines = [
        f"{'▶' if c.active else '•'} **{discord.utils.escape_markdown(c.name)}**"
        f"{' (active)' if c.active else ''}{' · private' if c.private else ''} · id {c.id}"
        for c in items
    ]
    embed = discord.Embed(title="Your companions", description="\n".join(lines), colour=_COLOUR)
    embed.set_footer(text="Pick one below to switch; each keeps its own mood and history.")
    return embed


def personality_embed(view: PersonalityView) -> discord.Embed:
    """``/personality``: Big Five, PAD, quirks and style traits."""
    embed = discord.Embed(title=f"{view.name}'s personality", colour=_COLOUR)
    traits = "\n".join(f"{k.title():<17} {_bar(v)} {v:.2f}" for k, v in view.big_five.items())
    embed.add_field(name="Big Five", value=f"```\n{traits or '-'}\n```", inline=False)
    embed.add_field(
        name=f"Mood ({view.emotion})", value=f"```\n{_pad_lines(view.pad)}\n```", inline=False
    )
    embed.add_field(name="Quirks", value=", ".join(view.quirks) or "none yet", inline=False)
    style = ", ".join(f"{k} {v}" for k, v in view.style.items())
    embed.add_field(name="Style", value=style or "still forming", inline=False)
    embed.set_footer(text=f"preset: {view.preset}")
    return embed


def memories_text(items: list[MemoryItem], *, heading: str) -> str:
    """A numbered list of memories with their ids (for ``/forget``), under 2000 chars."""
    if not items:
        return "I don't have any memories to show yet."
    lines = [heading]
    for item in items:
        content = item.content if len(item.content) <= 160 else item.content[:157] + "…"
        lines.append(f"• `{item.id}` {content}")
    text = "\n".join(lines)
    return text if len(text) <= 1990 else text[:1989] + "…"


def proactive_text(settings: ProactiveSettings) -> str:
    """One line summarising the proactive settings."""
    state = "on" if settings.enabled else "off"
    quiet = settings.quiet_hours or "none"
    zone = settings.timezone
    return f"Proactive messages are **{state}** · quiet hours: {quiet} · time zone: {zone}"
