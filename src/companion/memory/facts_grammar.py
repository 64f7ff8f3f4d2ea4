"""The vocabulary and grammar the rule fact extractor works with (no I/O).

Word lists (pets, relations, states, habits, past tenses), the subject of a clause
("I", "my sister Ana", "my boyfriend and I") and its predicate in the third person
("'m from" → "is from", "live in" → "lives in"), and the helpers that write a fact
so it reads right out of context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from companion.memory.facts_text import RELATIONS

__all__ = [
    "ANIMAL",
    "ANIMALS",
    "AUX",
    "DATE_WORDS",
    "DETERMINERS",
    "END",
    "HABITS",
    "JOB",
    "LEAD",
    "NAME",
    "NAMED",
    "NEGATABLE",
    "NOT_CONJUGATED",
    "NOT_EVENTS",
    "NOT_NAMES",
    "PAST_IRREGULAR",
    "PHRASE",
    "STATES",
    "SUBJECT",
    "TRANSIENT",
    "Subject",
    "clean",
    "conjugate",
    "fact_key",
    "last_entity",
    "predicate",
    "third_person",
]

ANIMALS = {
    "dog": "dog", "puppy": "dog", "pup": "dog", "cat": "cat", "kitten": "cat",
    "bird": "bird", "parrot": "bird", "hamster": "hamster", "rabbit": "rabbit",
    "bunny": "rabbit", "fish": "fish", "horse": "horse", "turtle": "turtle", "pet": "pet",
}  # fmt: skip
ANIMAL = "|".join(ANIMALS)
NAMED = r"(?:'s name is|s name is| is named| is called| named| called|,)?\s+"
# Names stay case-sensitive inside case-insensitive patterns.
NAME = r"((?-i:[A-Z][a-zA-Z'-]+))"
NOT_NAMES = frozenset(
    """american british english canadian french german italian spanish portuguese
    irish scottish welsh dutch swiss swedish danish norwegian finnish polish russian
    chinese japanese korean indian brazilian mexican australian african european asian
    jewish muslim christian catholic buddhist hindu atheist ok okay sorry fine good
    here back home tired happy sad new not so just also really very""".split()
)
DATE_WORDS = re.compile(
    r"(?:\s*,)?\s+(?:(?:last|next|this|on) \w+|yesterday|today|tonight|tomorrow|now|"
    r"\w+ \w+ ago|in \w+(?: of)? \w+s?)$",
    re.I,
)
END = (
    r"(?=[.,;!?]|\s+(?:and|but|because|since|so|which|who|when|although|with|for (?:\w+ )?"
    r"(?:years?|months?|weeks?|days?|a while|ages))\b|$)"
)
PHRASE = rf"([^.,;!?]{{2,60}}?){END}"
TRANSIENT = frozenset(
    "day week weekend morning night life head back mind heart bad point guess plan "
    "question answer turn fault pleasure problem business".split()
)
DETERMINERS = re.compile(r"^(?:the|a|an|my|some|all|this|that|these|those)\s+")
JOB = re.compile(
    r"^is an? ((?:\w+ ){0,2}(?:\w+(?:er|or|ist|ian|ant|ent)|nurse|chef|student|doctor|"
    r"teacher|developer|engineer|lawyer|artist|vet|pilot|firefighter|mechanic|"
    r"photographer|designer|accountant|programmer|scientist|farmer|barista))\b",
    re.IGNORECASE,
)
STATES = (
    r"vegetarian|vegan|pescatarian|single|married|divorced|engaged|pregnant|retired|"
    r"widowed|unemployed|self-employed|left-handed|diabetic|sober"
)
HABITS = (
    r"plays?|speaks?|drives?|stud(?:y|ies)|collects?|volunteers?|go(?:es)?|teach(?:es)?|"
    r"paints?|knits?|swims?|owns?|cooks?|bakes?|writes?|sings?|dances?|practi[cs]es?|"
    r"rides?|attends?|meditates?|runs?"
)
NEGATABLE = r"eat|drink|smoke|have|own|drive|drink|watch|use|do drugs|gamble"
PAST_IRREGULAR = (
    r"got|went|ran|met|lost|won|took|became|flew|left|bought|broke|began|wrote|saw|"
    r"came|found|gave|sold|built|caught|fell|heard|paid|sang|spent|swam|taught|drove|"
    r"ate|drank|rode|quit|made|did|had"
)
NOT_CONJUGATED = (
    r"was|were|can|could|should|must|may|grew|knew|thought|told|said|kept|held|stood|sat|"
    r"slept|woke|wore|won't|can't|cannot|didn't|wasn't|born|been|used"
)
NOT_EVENTS = frozenset(
    "used loved liked hated enjoyed needed wanted wished wondered guessed supposed "
    "tried decided preferred hoped planned did had made felt thought meant".split()
)
LEAD = (
    r"^(?:(?:now|then|also|just|so|and|but|honestly|actually|well|oh|yesterday|today|"
    r"tonight|tomorrow|recently|finally|(?:last|next|this|on) \w+|\w+ \w+ ago)\s*,?\s+)*"
)
SUBJECT = re.compile(
    LEAD + rf"(?:(?P<me>i|we)\b|(?:my|our) (?P<rel>(?:best |older |younger |little |big "
    rf"|new |ex-?)?(?:{RELATIONS}))(?:'s (?P<rel2>{RELATIONS}|{ANIMAL}))?"
    rf"(?:,? (?P<name>(?-i:[A-Z][a-z'-]+))(?=[\s,]))?(?P<and_i> and i\b)?)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Subject:
    text: str  # as written in facts: "Maya", "Maya's sister", "Ana"
    is_speaker: bool


def clean(value: str) -> str:
    return DATE_WORDS.sub("", re.sub(r"\s+", " ", value).strip(" '\""))


def fact_key(subject: str, attribute: str) -> str:
    attribute = DETERMINERS.sub("", attribute.lower().strip())
    return f"{subject.lower()}|{re.sub(r'[^a-z0-9:]+', '_', attribute).strip('_')}"[:200]


def third_person(clause: str, speaker: str) -> str:
    clause = re.sub(r"\b(?:I'm|I am)\b", f"{speaker} is", clause, flags=re.IGNORECASE)
    clause = re.sub(r"\bI've\b", f"{speaker} has", clause, flags=re.IGNORECASE)
    clause = re.sub(r"\bI'll\b", f"{speaker} will", clause, flags=re.IGNORECASE)
    clause = re.sub(r"\b(?:my|our)\b", f"{speaker}'s", clause, flags=re.IGNORECASE)
    clause = re.sub(r"\b(?:I|me|myself|us)\b", speaker, clause)
    return clause


def conjugate(verb: str) -> str:
    lowered = verb.lower()
    irregular = {"have": "has", "do": "does", "go": "goes", "be": "is", "am": "is"}
    if lowered in irregular:
        return irregular[lowered]
    if re.search(r"(?:s|sh|ch|x|z|o)$", lowered):
        return verb + "es"
    if re.search(r"[^aeiou]y$", lowered):
        return verb[:-1] + "ies"
    return verb + "s"


AUX = [
    (r"^(?:'m|am|'re|are|'s|is)\b", "is"), (r"^(?:'ve|have|has)\b", "has"),
    (r"^(?:'ll|will)\b", "will"), (r"^(?:'d rather|would rather)\b", "would rather"),
    (r"^(?:'d)\b", "would"),
]  # fmt: skip


def predicate(rest: str, *, first_person: bool) -> str:
    """The clause after its subject, in the third person ("'m from" → "is from")."""
    rest = rest.strip()
    for pattern, replacement in AUX:
        if aux := re.match(pattern, rest, re.IGNORECASE):
            return replacement + rest[aux.end() :]
    if not first_person:
        return rest
    if neg := re.match(r"(?:don't|do not|dont)\b", rest, re.IGNORECASE):
        return "doesn't" + rest[neg.end() :]
    match = re.match(r"((?:\w+ly |now |just |still |also |no longer |never |often )*)(\w+)", rest)
    if match is None:
        return rest
    verb = match.group(2)
    if re.fullmatch(rf"\w+ed|{PAST_IRREGULAR}|{NOT_CONJUGATED}", verb, re.IGNORECASE):
        return rest
    return match.group(1) + conjugate(verb) + rest[match.end() :]


def last_entity(text: str) -> str | None:
    """The last pet or relative mentioned ("my new puppy" → "dog"), for "his name is"."""
    found = re.findall(rf"\b({ANIMAL}|{RELATIONS})\b", text.lower())
    if not found:
        return None
    word = str(found[-1])
    return ANIMALS.get(word, word)
