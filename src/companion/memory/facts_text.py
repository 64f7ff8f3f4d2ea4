"""Where facts can be: sentences and clauses that state something, and whose they are.

The rule extractor only reads clauses that assert: a question ("Do I like coffee?"),
a hypothetical ("If I had a dog…", "I wish I lived…", "Maybe I'll…") or a hedge
("I'm not sure I like my job") states nothing and is skipped whole. A message is cut
into sentences, and each sentence into clauses at "and / but / ," when a new subject
follows, so "I just moved to Lisbon and I'm starting a job next week" gives two
clauses, and next week's date stays with the job. A clause's subject is the speaker
("I", "we") or someone the speaker names ("my sister", "my sister Ana", "my friend's
wife"): facts about other people are written as theirs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["RELATIONS", "Clause", "clauses", "is_hypothetical", "is_question"]

RELATIONS = (
    "wife|husband|partner|girlfriend|boyfriend|fiancee|fiance|sister|brother|mom|mum|"
    "mother|dad|father|son|daughter|boss|best friend|friend|roommate|flatmate|cousin|aunt|"
    "uncle|grandma|grandmother|grandpa|grandfather|niece|nephew|coworker|colleague|"
    "neighbou?r|parents|kids|children|in-laws|grandparents|stepmom|stepdad|manager"
)
_QUESTION_START = re.compile(
    r"^(?:do|does|did|should|would|could|can|will|is|are|am|was|were|have|has|what|"
    r"where|when|why|how|who|whom|which|shall|may|might)\b",
    re.IGNORECASE,
)
_HYPOTHETICAL = re.compile(
    r"\b(?:if|suppose|supposing|imagine|imagining|pretend|pretending|wish|would|could|"
    r"might|maybe|perhaps|someday|one day|dream|dreamt|dreamed|thinking about|"
    r"thinking of|considering|what if|not sure|unless|hypothetically|i'd(?! rather)|"
    r"i'd love|i'd like)\b",
    re.IGNORECASE,
)
# Prefaces that make a statement look like a question: "Did I tell you I moved…?"
_PREFACE = re.compile(
    r"^(?:did i (?:tell|mention to) you (?:that )?|guess what,?\s*|you know what,?\s*|"
    r"fun fact:?\s*|btw,?\s*|by the way,?\s*|so,?\s+|well,?\s+|oh,?\s+|also,?\s+|"
    r"honestly,?\s+|actually,?\s+)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")
# A clause boundary: a conjunction or comma followed by a new subject.
_BOUNDARY = re.compile(
    r"\s*(?:,\s*(?:and|but|so)?|;|:|\s(?:and|but|so|because|although|while)\b)\s*"
    r"(?=(?:i|i'm|i've|i'll|i'd|we|we're|we've|my|now i|now we|then i)\b)",
    re.IGNORECASE,
)


_BARE_SUBJECT = re.compile(rf"^(?:my|our) (?:\w+ )?(?:{RELATIONS})(?: [A-Z][a-z]+)?$", re.I)


@dataclass(frozen=True)
class Clause:
    """One asserting clause and its sentence (for words like "his name is")."""

    text: str
    sentence: str


def is_question(sentence: str) -> bool:
    """Whether the sentence asks rather than tells."""
    stripped = sentence.strip()
    return stripped.endswith("?") or bool(_QUESTION_START.match(stripped))


def is_hypothetical(sentence: str) -> bool:
    """Whether the sentence is a wish, a condition, a maybe or a hedge."""
    return _HYPOTHETICAL.search(sentence) is not None


def clauses(text: str) -> list[Clause]:
    """The asserting clauses of a message, in order."""
    found: list[Clause] = []
    for match in _SENTENCE.finditer(text.replace("\n", ". ")):
        sentence = match.group(0).strip()
        if not sentence:
            continue
        body = sentence
        while (preface := _PREFACE.match(body)) and preface.end() > 0:
            body = body[preface.end() :]
        if body.rstrip().endswith("?") and body is sentence:
            continue
        if _QUESTION_START.match(body.strip()) or is_hypothetical(body):
            continue
        body = body.rstrip("?!. ")
        parts: list[str] = []
        for part in _BOUNDARY.split(body):
            part = part.strip(" ,;")
            if parts and _BARE_SUBJECT.match(parts[-1]):  # "my boyfriend and I broke up"
                parts[-1] = f"{parts[-1]} and {part}"
            elif part:
                parts.append(part)
        found.extend(Clause(part, body) for part in parts)
    return found
