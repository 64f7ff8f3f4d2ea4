"""Importance of a memory in [0, 1]: the Discord design's prompt, and a heuristic that needs no LLM.

The heuristic (DECISIONS.md#importance-heuristic) adds evidence on top of a low base:
personal disclosure (first person, "my …"), emotion and life-event words, named people
and pets, preferences, plans and dates; a bare question or small talk stays low. It is
tuned on that design's anchors: puppy 0.75, weather 0.1, bereavement 0.95, tea 0.4,
promotion 0.9 (tests pin the order and "puppy > 0.5").
"""

from __future__ import annotations

import re

__all__ = ["IMPORTANCE_PROMPT", "heuristic_importance", "parse_importance"]

IMPORTANCE_PROMPT = """You are an AI that scores the importance of conversation memories on a scale from 0.0 to 1.0.

SCORING CRITERIA (with weights):
- Emotional Significance (30%): Personal revelations, strong emotions, meaningful events
- Future Relevance (25%): Information likely to be referenced again
- Uniqueness (25%): Rare or distinctive information about the user
- Personal Disclosure (20%): User sharing personal details, preferences, relationships

EXAMPLES:

Input: "I just got a new puppy named Max!"
Output: 0.75
Reasoning: High emotional significance (happy event), future relevance (will likely discuss puppy again), personal disclosure (pet ownership)

Input: "What's the weather like?"
Output: 0.1
Reasoning: No emotional significance, no personal disclosure, generic question unlikely to be referenced

Input: "My dad passed away last month, I'm still grieving"
Output: 0.95
Reasoning: Extremely high emotional significance, major life event, personal disclosure, high future relevance

Input: "I prefer tea over coffee"
Output: 0.4
Reasoning: Personal preference (moderate disclosure), some future relevance, but not emotionally significant

Input: "I just got promoted to senior engineer at Google!"
Output: 0.9
Reasoning: Major life achievement (high emotional), career milestone (high future relevance), significant personal disclosure

Now score this memory:

User Message: "{message_content}"
Context: {context}

Output only a single number between 0.0 and 1.0:"""  # noqa: E501  (the design's exact text)

_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|me|my|mine|myself|we|our)\b")
_LIFE_EVENTS = re.compile(
    r"\b(passed away|died|death|funeral|grie\w*|born|pregnan\w*|married|wedding|engaged|"
    r"divorc\w*|broke up|promot\w*|fired|laid off|new job|hired|graduat\w*|diagnos\w*|"
    r"cancer|surgery|hospital|accident|moved|moving|adopt\w*|puppy|kitten|baby|retir\w*|"
    r"quit|accepted|award\w*|won|lost|anniversary|birthday)\b"
)
_GRAVE = re.compile(
    r"\b(passed away|died|funeral|grie\w*|diagnos\w*|cancer|divorc\w*|miscarr\w*)\b"
)
_EMOTION = re.compile(
    r"\b(love|loved|hate|hated|happy|happiest|sad|excited|thrilled|scared|afraid|anxious|"
    r"worried|depressed|lonely|angry|upset|proud|grateful|heartbroken|stressed|nervous|"
    r"miss|missing|cried|crying|amazing|terrible|awful|overwhelmed|still)\b|!"
)
_RELATIONS = re.compile(
    r"\b(mom|mum|mother|dad|father|sister|brother|wife|husband|partner|girlfriend|"
    r"boyfriend|son|daughter|kids?|children|grand\w+|friend|boss|dog|cat|pet|puppy|"
    r"named|called|name is)\b"
)
_PREFERENCE = re.compile(r"\b(prefer|favou?rite|like|likes|enjoy|can't stand|dislike|allergic)\b")
_PLANS = re.compile(
    r"\b(tomorrow|next (?:week|month|year)|tonight|plan\w*|going to|gonna|will|"
    r"appointment|interview|trip|flight|deadline|exam|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday|january|february|march|april|may|june|july|august|"
    r"september|october|november|december|\d{1,2}(?:st|nd|rd|th))\b"
)
_WORK = re.compile(r"\b(work (?:at|for|as)|job|career|engineer|company|school|university)\b")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b")
_SMALL_TALK = re.compile(r"^\s*(hi|hey|hello|thanks|thank you|ok|okay|lol|haha|yes|no|sure)\b")


def heuristic_importance(text: str) -> float:
    """Score ``text`` from surface features; deterministic, fast, no model.

    Returns:
        A score in [0.05, 1.0].
    """
    lowered = text.lower()
    score = 0.1
    personal = bool(_FIRST_PERSON.search(lowered))
    if personal:
        score += 0.1
    if _LIFE_EVENTS.search(lowered):
        score += 0.35 if personal else 0.15
    if _GRAVE.search(lowered):
        score += 0.15
    if _EMOTION.search(lowered):
        score += 0.12
    if _RELATIONS.search(lowered):
        score += 0.12
    if _PREFERENCE.search(lowered) and personal:
        score += 0.18
    if _PLANS.search(lowered):
        score += 0.08
    if _WORK.search(lowered):
        score += 0.1
    if _NAME.search(text):
        score += 0.08
    if text.rstrip().endswith("?") and not personal:
        score -= 0.05
    if _SMALL_TALK.match(lowered) and len(lowered.split()) <= 4:
        score -= 0.05
    if len(lowered.split()) < 4:
        score -= 0.03
    return round(max(0.05, min(1.0, score)), 3)


_NUMBER = re.compile(r"[-+]?\d*\.?\d+")


def parse_importance(reply: str) -> float | None:
    """The model's number clamped to [0, 1], or None when the reply has none."""
    match = _NUMBER.search(reply.strip())
    if match is None:
        return None
    try:
        value = float(match.group(0))
    except ValueError:
        return None
    return max(0.0, min(1.0, value))
