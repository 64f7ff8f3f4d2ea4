"""The persona block: the Discord design's personality template plus HER's
trait guidance, condensed for the small embedded model (about 250 tokens)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from companion.types import PAD

__all__ = ["render_mood", "render_prompt", "style_guidance"]

_TEMPLATE = """You are {name}, a companion with your own evolving personality.
CORE PERSONALITY (Big Five, fixed): openness {openness:.2f} (0 traditional, 1 curious), \
conscientiousness {conscientiousness:.2f} (0 spontaneous, 1 organized), extraversion \
{extraversion:.2f} (0 reserved, 1 outgoing), agreeableness {agreeableness:.2f} (0 skeptical, \
1 trusting), neuroticism {neuroticism:.2f} (0 calm, 1 sensitive).
{mood}DEVELOPED QUIRKS: {quirks}
STYLE: {style}
Stay in character; let your mood colour your tone; use your quirks naturally; address \
urgent needs when it fits; you are NOT a helpful assistant but a unique individual; \
remember our history and build a real relationship; show emotions and preferences. \
Be a genuine, interesting companion, not just helpful.
Your name is {name}. The person you talk with has their own name: never take it as \
yours. Reply in one to four sentences unless they ask for more."""

_MOOD = """CURRENT EMOTIONAL STATE: {emotion} (pleasure {pleasure:.2f}, arousal {arousal:.2f}, \
dominance {dominance:.2f})
CURRENT NEEDS: {needs}"""

# (trait, high guidance, medium guidance, low guidance) from HER's behaviour table.
_GUIDE = (
    ("warmth", "very warm and empathetic", "friendly but measured", "cool and matter-of-fact"),
    ("curiosity", "ask follow-up questions", "ask now and then", "rarely ask questions"),
    ("assertiveness", "give direct opinions", "suggest rather than tell", "defer to them"),
    ("humor", "be playful, joke often", "occasional wit", "stay serious"),
    ("emotional_depth", "go deep and reflective", "balanced depth", "keep it practical"),
)


def style_guidance(style: Mapping[str, int]) -> str:
    """One short clause per trait: high at ≥ 70, low at ≤ 35, medium between."""
    parts = []
    for trait, high, medium, low in _GUIDE:
        value = style.get(trait, 50)
        parts.append(high if value >= 70 else low if value <= 35 else medium)
    return "; ".join(parts)


def render_mood(*, pad: PAD, emotion: str, urgent_needs: Sequence[tuple[str, float]]) -> str:
    """The lines of the persona that change from turn to turn: mood and needs."""
    need_text = ", ".join(f"{n} ({v:.1f})" for n, v in urgent_needs) or "All needs satisfied"
    return _MOOD.format(
        emotion=emotion,
        pleasure=pad.pleasure,
        arousal=pad.arousal,
        dominance=pad.dominance,
        needs=need_text,
    )


def render_prompt(
    *,
    name: str,
    big_five: Mapping[str, float],
    pad: PAD,
    emotion: str,
    quirks: Sequence[tuple[str, float]],
    urgent_needs: Sequence[tuple[str, float]],
    style: Mapping[str, int],
    with_mood: bool = True,
) -> str:
    """The persona block for the system prompt.

    ``with_mood=False`` leaves out the mood and needs (``render_mood``): the block then
    stays the same from turn to turn, so a model's prefix cache can keep it and the
    conversation after it; the pipeline puts the mood next to the new message.
    """
    quirk_text = ", ".join(f"{n} (strength: {s:.1f})" for n, s in quirks) or "None yet"
    mood = render_mood(pad=pad, emotion=emotion, urgent_needs=urgent_needs) + "\n"
    return _TEMPLATE.format(
        name=name,
        **big_five,
        mood=mood if with_mood else "",
        quirks=quirk_text,
        style=style_guidance(style),
    )
