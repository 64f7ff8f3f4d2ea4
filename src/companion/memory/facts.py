"""Rule-based fact extraction from one message (no I/O; the path that needs no LLM).

Covers the statements people make about themselves: "my name is", "I'm 34", "I live
in / moved to", "I work at / as", "my dog named …" (and "his name is …" resolved to
the pet or person just mentioned), "my sister Ana", "my favourite X is Y", "I like /
love / hate X", "I prefer X over Y", "my X is Y", and dated events and plans ("I
adopted a cat yesterday", "I'm flying to Rome next Friday") with the relative date
resolved against the message's own time.

Each fact is written in the third person with the speaker's name ("Maya works at
Google"), so it still reads right when retrieved out of context. ``fact_key``
(subject|attribute) is what two contradicting facts share.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from companion.memory.dates import resolve_relative

__all__ = ["ExtractedFact", "extract_facts", "last_entity"]

_ANIMALS = {
    "dog": "dog", "puppy": "dog", "pup": "dog", "cat": "cat", "kitten": "cat",
    "bird": "bird", "parrot": "bird", "hamster": "hamster", "rabbit": "rabbit",
    "bunny": "rabbit", "fish": "fish", "horse": "horse", "turtle": "turtle", "pet": "pet",
}  # fmt: skip
_RELATIONS = (
    "wife|husband|partner|girlfriend|boyfriend|fiance|fiancee|sister|brother|mom|mum|"
    "mother|dad|father|son|daughter|boss|best friend|friend|roommate|cousin|aunt|uncle|"
    "grandma|grandmother|grandpa|grandfather|niece|nephew|coworker|colleague"
)
_ANIMAL = "|".join(_ANIMALS)
_NAMED = r"(?:'s name is|s name is| is named| is called| named| called|,)?\s+"
# Names stay case-sensitive inside case-insensitive patterns.
_NAME = r"((?-i:[A-Z][a-zA-Z'-]+))"
_DATE_WORDS = re.compile(
    r"\s+(?:(?:last|next|this) \w+|yesterday|today|tonight|tomorrow|\w+ \w+ ago)$", re.I
)
_END = r"(?=[.,;!?]|\s+(?:and|but|because|since|so|which|who|when|although)\b|$)"
_PHRASE = rf"([^.,;!?]{{2,60}}?){_END}"
# "my X is Y" where X is a transient state, not an attribute worth keeping.
_TRANSIENT = frozenset(
    "day week weekend morning night life head back mind heart bad point guess plan "
    "question answer turn fault pleasure problem".split()
)
_DETERMINERS = re.compile(r"^(?:the|a|an|my|some|all|this|that|these|those)\s+")
_JOB = re.compile(
    r"\bi(?:'m| am) an? ((?:\w+ ){0,2}(?:\w+(?:er|or|ist|ian|ant|ent)|nurse|chef|student|"
    r"doctor|teacher|developer|engineer|lawyer|artist|nurse))\b",
    re.IGNORECASE,
)
_PRONOUN_NAME = re.compile(rf"\b(?:his|her|its|their) name(?: is|'s)\s+{_NAME}", re.I)
_EVENT_VERBS = (
    r"(?:just |finally |recently )?(?:got|adopted|bought|started|finished|visited|went|ran|"
    r"met|graduated|had|lost|won|booked|signed up|joined|quit|moved|passed|took|became|"
    r"celebrated|received|completed|painted|wrote|travel(?:l)?ed|flew|returned|left)"
)
_PLAN = re.compile(
    r"\bi('m| am| will|'ll)\s+(going to |planning to |gonna |hoping to )?"
    r"(?!be\b|not\b|so\b|sure\b|sorry\b|glad\b|happy\b|fine\b|good\b|tired\b)"
    rf"([a-z][^.;!?]{{3,80}}?){_END}",
    re.IGNORECASE,
)
_EVENT = re.compile(rf"\bi\s+({_EVENT_VERBS}\b[^.;!?]{{2,80}}?){_END}", re.IGNORECASE)


@dataclass(frozen=True)
class ExtractedFact:
    """One atomic statement about the speaker.

    ``kind`` is ``fact``, ``preference``, ``event`` or ``plan`` (ACS-14's types).
    ``event_day`` is the resolved date of an event or plan, if the text gave one.
    """

    content: str
    fact_key: str | None
    kind: str
    event_day: date | None = None
    confidence: float = 0.7


def _clean(value: str) -> str:
    return _DATE_WORDS.sub("", re.sub(r"\s+", " ", value).strip(" '\""))


def _key(subject: str, attribute: str) -> str:
    attribute = _DETERMINERS.sub("", attribute.lower().strip())
    return f"{subject.lower()}|{re.sub(r'[^a-z0-9:]+', '_', attribute).strip('_')}"[:200]


def _third_person(clause: str, subject: str) -> str:
    clause = re.sub(r"\b(?:I'm|I am)\b", f"{subject} is", clause, flags=re.IGNORECASE)
    clause = re.sub(r"\bI've\b", f"{subject} has", clause, flags=re.IGNORECASE)
    clause = re.sub(r"\bI'll\b", f"{subject} will", clause, flags=re.IGNORECASE)
    clause = re.sub(r"\bmy\b", f"{subject}'s", clause, flags=re.IGNORECASE)
    clause = re.sub(r"\b(?:I|me|myself)\b", subject, clause)
    return clause


def last_entity(text: str) -> str | None:
    """The last pet or relative mentioned ("my new puppy" → "dog"), for "his name is"."""
    found = re.findall(rf"\b({_ANIMAL}|{_RELATIONS})\b", text.lower())
    if not found:
        return None
    word = str(found[-1])
    return _ANIMALS.get(word, word)


def _identity(text: str, s: str) -> Iterator[ExtractedFact]:
    if m := re.search(rf"\bmy name is {_NAME}", text, re.IGNORECASE):
        yield ExtractedFact(f"{s}'s name is {m.group(1)}", _key(s, "name"), "fact", None, 0.9)
    if m := re.search(r"\bi(?:'m| am) (\d{1,3}) years? old\b", text, re.IGNORECASE):
        yield ExtractedFact(f"{s} is {m.group(1)} years old", _key(s, "age"), "fact")
    if m := re.search(rf"\bi(?:'m| am) from {_PHRASE}", text, re.IGNORECASE):
        yield ExtractedFact(f"{s} is from {_clean(m.group(1))}", _key(s, "from"), "fact")
    if m := re.search(
        rf"\bi (?:live|am living|'m living|now live) in {_PHRASE}", text, re.IGNORECASE
    ):
        yield ExtractedFact(f"{s} lives in {_clean(m.group(1))}", _key(s, "lives_in"), "fact")
    if m := re.search(
        rf"\bi(?:'ve| have)? (?:just |recently |finally )?(?:moved|relocated) to {_PHRASE}",
        text,
        re.IGNORECASE,
    ):
        place = _clean(m.group(1))
        yield ExtractedFact(f"{s} moved to and lives in {place}", _key(s, "lives_in"), "fact")


def _work(text: str, s: str) -> Iterator[ExtractedFact]:
    if m := re.search(
        rf"\bi (?:work|am working|'m working|now work|started working) (?:at|for) {_PHRASE}",
        text,
        re.IGNORECASE,
    ) or re.search(
        rf"\bi (?:just )?(?:got|started|accepted) (?:a|my)? ?(?:new )?job (?:at|with) {_PHRASE}",
        text,
        re.IGNORECASE,
    ):
        yield ExtractedFact(f"{s} works at {_clean(m.group(1))}", _key(s, "works_at"), "fact")
    if m := re.search(rf"\bi work as an? {_PHRASE}", text, re.IGNORECASE) or _JOB.search(text):
        yield ExtractedFact(f"{s} works as a {_clean(m.group(1))}", _key(s, "job"), "fact")


def _people_and_pets(text: str, s: str, previous: str | None) -> Iterator[ExtractedFact]:
    for m in re.finditer(
        rf"\b(?:my|a|our)\s+(?:new\s+|little\s+|old\s+)?({_ANIMAL}){_NAMED}{_NAME}",
        text,
        re.IGNORECASE,
    ):
        kind = _ANIMALS[m.group(1).lower()]
        content = f"{s} has a {kind} named {m.group(2)}"
        yield ExtractedFact(content, _key(s, f"pet:{kind}:name"), "fact", None, 0.85)
    for m in re.finditer(rf"\bmy ({_RELATIONS}){_NAMED}{_NAME}", text, re.IGNORECASE):
        relation = m.group(1).lower()
        content = f"{s}'s {relation} is named {m.group(2)}"
        yield ExtractedFact(content, _key(s, f"rel:{relation}:name"), "fact", None, 0.85)
    pronoun = _PRONOUN_NAME.search(text)
    entity = (last_entity(text[: pronoun.start()]) or previous) if pronoun else None
    if pronoun and entity:
        m = pronoun
        prefix = "pet:" if entity in _ANIMALS.values() else "rel:"
        content = (
            f"{s} has a {entity} named {m.group(1)}"
            if prefix == "pet:"
            else f"{s}'s {entity} is named {m.group(1)}"
        )
        yield ExtractedFact(content, _key(s, f"{prefix}{entity}:name"), "fact", None, 0.75)


def _preferences(text: str, s: str) -> Iterator[ExtractedFact]:
    if m := re.search(rf"\bmy favou?rite ([a-z ]{{2,30}}?) is {_PHRASE}", text, re.IGNORECASE):
        thing = _clean(m.group(1))
        content = f"{s}'s favorite {thing} is {_clean(m.group(2))}"
        yield ExtractedFact(content, _key(s, f"favorite:{thing}"), "preference")
    if m := re.search(rf"\bi prefer {_PHRASE}", text, re.IGNORECASE):
        yield ExtractedFact(f"{s} prefers {_clean(m.group(1))}", None, "preference")
    pattern = (
        r"\bi (?:(really |also |absolutely )?(like|love|enjoy|adore)|(hate|dislike|"
        r"can't stand|cannot stand|don't like|do not like|don't enjoy|no longer like|"
        r"don't really like|stopped liking))\s+"
    )
    for m in re.finditer(pattern + _PHRASE, text, re.IGNORECASE):
        thing = _clean(m.group(4))
        if thing.lower().split()[0] in {"you", "it", "that", "this", "them", "to", "how"}:
            continue
        verb = "likes" if m.group(2) else "dislikes"
        content = f"{s} {verb} {_third_person(thing, s)}"
        yield ExtractedFact(content, _key(s, f"pref:{thing}"), "preference")


def _my_attribute(text: str, s: str, keys: set[str]) -> Iterator[ExtractedFact]:
    for m in re.finditer(rf"\bmy ([a-z]+(?: [a-z]+)?) is {_PHRASE}", text, re.IGNORECASE):
        attribute = m.group(1).lower()
        key = _key(s, attribute)
        if attribute.split()[-1] in _TRANSIENT or attribute.startswith("favo") or key in keys:
            continue
        if re.search(rf"\b({_RELATIONS}|name|{_ANIMAL})\b", attribute):
            continue
        yield ExtractedFact(f"{s}'s {attribute} is {_clean(m.group(2))}", key, "fact")


def _dated_content(m: re.Match[str], kind: str, s: str, at: datetime) -> ExtractedFact | None:
    clause = re.sub(r"\s+", " ", m.group(m.lastindex or 1)).strip()
    when = resolve_relative(clause, at) or resolve_relative(m.string, at)
    if when is None and kind == "plan":
        return None
    day = when.day if when else at.date()
    body = re.sub(re.escape(when.phrase), "", clause, flags=re.I).strip() if when else clause
    if kind == "plan":
        aux = m.group(1).strip(" '").lower()
        lead = "plans to" if m.group(2) else "will" if aux in ("will", "ll") else "is"
        body = f"{lead} {body}"
    content = re.sub(r"\s+", " ", f"{s} {_third_person(body, s)} (on {day.isoformat()})")
    return ExtractedFact(content, None, kind, day, 0.6)


def _dated(text: str, s: str, at: datetime) -> Iterator[ExtractedFact]:
    for pattern, kind in ((_EVENT, "event"), (_PLAN, "plan")):
        for m in pattern.finditer(text):
            fact = _dated_content(m, kind, s, at)
            if fact is not None:
                yield fact
                return


def extract_facts(
    text: str,
    *,
    speaker: str,
    at: datetime,
    previous_entity: str | None = None,
) -> list[ExtractedFact]:
    """Facts the speaker states about themselves in ``text``.

    Args:
        text: one message.
        speaker: the name to write facts with ("User" when unknown).
        at: the message's time, for relative dates.
        previous_entity: the last pet or relative mentioned earlier in the conversation,
            so "His name is Sparky" can be resolved.

    Returns:
        Facts in the order found, without duplicates of the same key.
    """
    s = speaker.strip() or "User"
    found: list[ExtractedFact] = []
    for fact in (
        *_identity(text, s),
        *_work(text, s),
        *_people_and_pets(text, s, previous_entity),
        *_preferences(text, s),
    ):
        if all(f.fact_key != fact.fact_key or fact.fact_key is None for f in found):
            found.append(fact)
    keys = {f.fact_key for f in found if f.fact_key}
    found.extend(_my_attribute(text, s, keys))
    if not any(f.kind in ("event", "plan") for f in found):
        found.extend(_dated(text, s, at))
    return found
