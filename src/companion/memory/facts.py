"""Rule-based fact extraction from one message (no I/O; the path that needs no LLM).

A message is cut into asserting clauses (``facts_text``: questions, hypotheticals and
hedges state nothing); each clause has a subject, the speaker ("I", "we") or someone
they name ("my sister", "my sister Ana"), and a predicate put in the third person
("I live in Porto" → "lives in Porto"). Predicate rules then cover identity (name,
age, origin, home, moves), work, relationships and pets, preferences and negations,
habits and states, and dated events and plans ("I adopted a cat yesterday", "I'm
flying to Rome next Friday") with the relative date of that clause resolved against
the message's own time, so "I just moved to Lisbon and I'm starting a job next week"
dates the job, not the move.

Each fact is written in the third person with the speaker's name ("Maya works at
Google"; "Maya's sister lives in Porto"), so it still reads right when retrieved out
of context. ``fact_key`` (subject|attribute) is what two contradicting facts share.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from companion.memory.dates import resolve_relative
from companion.memory.facts_text import RELATIONS, clauses

__all__ = ["ExtractedFact", "extract_facts", "last_entity"]

_ANIMALS = {
    "dog": "dog", "puppy": "dog", "pup": "dog", "cat": "cat", "kitten": "cat",
    "bird": "bird", "parrot": "bird", "hamster": "hamster", "rabbit": "rabbit",
    "bunny": "rabbit", "fish": "fish", "horse": "horse", "turtle": "turtle", "pet": "pet",
}  # fmt: skip
_ANIMAL = "|".join(_ANIMALS)
_NAMED = r"(?:'s name is|s name is| is named| is called| named| called|,)?\s+"
# Names stay case-sensitive inside case-insensitive patterns.
_NAME = r"((?-i:[A-Z][a-zA-Z'-]+))"
_NOT_NAMES = frozenset(
    """american british english canadian french german italian spanish portuguese
    irish scottish welsh dutch swiss swedish danish norwegian finnish polish russian
    chinese japanese korean indian brazilian mexican australian african european asian
    jewish muslim christian catholic buddhist hindu atheist ok okay sorry fine good
    here back home tired happy sad new not so just also really very""".split()
)
_DATE_WORDS = re.compile(
    r"(?:\s*,)?\s+(?:(?:last|next|this|on) \w+|yesterday|today|tonight|tomorrow|now|"
    r"\w+ \w+ ago|in \w+(?: of)? \w+s?)$",
    re.I,
)
_END = (
    r"(?=[.,;!?]|\s+(?:and|but|because|since|so|which|who|when|although|with|for (?:\w+ )?"
    r"(?:years?|months?|weeks?|days?|a while|ages))\b|$)"
)
_PHRASE = rf"([^.,;!?]{{2,60}}?){_END}"
_TRANSIENT = frozenset(
    "day week weekend morning night life head back mind heart bad point guess plan "
    "question answer turn fault pleasure problem business".split()
)
_DETERMINERS = re.compile(r"^(?:the|a|an|my|some|all|this|that|these|those)\s+")
_JOB = re.compile(
    r"^is an? ((?:\w+ ){0,2}(?:\w+(?:er|or|ist|ian|ant|ent)|nurse|chef|student|doctor|"
    r"teacher|developer|engineer|lawyer|artist|vet|pilot|firefighter|mechanic|"
    r"photographer|designer|accountant|programmer|scientist|farmer|barista))\b",
    re.IGNORECASE,
)
_STATES = (
    r"vegetarian|vegan|pescatarian|single|married|divorced|engaged|pregnant|retired|"
    r"widowed|unemployed|self-employed|left-handed|diabetic|sober"
)
_HABITS = (
    r"plays?|speaks?|drives?|stud(?:y|ies)|collects?|volunteers?|go(?:es)?|teach(?:es)?|"
    r"paints?|knits?|swims?|owns?|cooks?|bakes?|writes?|sings?|dances?|practi[cs]es?|"
    r"rides?|attends?|meditates?|runs?"
)
_NEGATABLE = r"eat|drink|smoke|have|own|drive|drink|watch|use|do drugs|gamble"
_PAST_IRREGULAR = (
    r"got|went|ran|met|lost|won|took|became|flew|left|bought|broke|began|wrote|saw|"
    r"came|found|gave|sold|built|caught|fell|heard|paid|sang|spent|swam|taught|drove|"
    r"ate|drank|rode|quit|made|did|had"
)
_NOT_CONJUGATED = (
    r"was|were|can|could|should|must|may|grew|knew|thought|told|said|kept|held|stood|sat|"
    r"slept|woke|wore|won't|can't|cannot|didn't|wasn't|born|been|used"
)
_NOT_EVENTS = frozenset(
    "used loved liked hated enjoyed needed wanted wished wondered guessed supposed "
    "tried decided preferred hoped planned did had made felt thought meant".split()
)
_LEAD = (
    r"^(?:(?:now|then|also|just|so|and|but|honestly|actually|well|oh|yesterday|today|"
    r"tonight|tomorrow|recently|finally|(?:last|next|this|on) \w+|\w+ \w+ ago)\s*,?\s+)*"
)
_SUBJECT = re.compile(
    _LEAD + rf"(?:(?P<me>i|we)\b|(?:my|our) (?P<rel>(?:best |older |younger |little |big "
    rf"|new |ex-?)?(?:{RELATIONS}))(?:'s (?P<rel2>{RELATIONS}|{_ANIMAL}))?"
    rf"(?:,? (?P<name>(?-i:[A-Z][a-z'-]+))(?=[\s,]))?(?P<and_i> and i\b)?)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ExtractedFact:
    """One atomic statement about the speaker or someone they named.

    ``kind`` is ``fact``, ``preference``, ``event`` or ``plan`` (ACS-14's types).
    ``event_day`` is the resolved date of an event or plan, if the text gave one.
    """

    content: str
    fact_key: str | None
    kind: str
    event_day: date | None = None
    confidence: float = 0.7


@dataclass(frozen=True)
class _Subject:
    text: str  # as written in facts: "Maya", "Maya's sister", "Ana"
    is_speaker: bool


def _clean(value: str) -> str:
    return _DATE_WORDS.sub("", re.sub(r"\s+", " ", value).strip(" '\""))


def _key(subject: str, attribute: str) -> str:
    attribute = _DETERMINERS.sub("", attribute.lower().strip())
    return f"{subject.lower()}|{re.sub(r'[^a-z0-9:]+', '_', attribute).strip('_')}"[:200]


def _third_person(clause: str, speaker: str) -> str:
    clause = re.sub(r"\b(?:I'm|I am)\b", f"{speaker} is", clause, flags=re.IGNORECASE)
    clause = re.sub(r"\bI've\b", f"{speaker} has", clause, flags=re.IGNORECASE)
    clause = re.sub(r"\bI'll\b", f"{speaker} will", clause, flags=re.IGNORECASE)
    clause = re.sub(r"\b(?:my|our)\b", f"{speaker}'s", clause, flags=re.IGNORECASE)
    clause = re.sub(r"\b(?:I|me|myself|us)\b", speaker, clause)
    return clause


def _conjugate(verb: str) -> str:
    lowered = verb.lower()
    irregular = {"have": "has", "do": "does", "go": "goes", "be": "is", "am": "is"}
    if lowered in irregular:
        return irregular[lowered]
    if re.search(r"(?:s|sh|ch|x|z|o)$", lowered):
        return verb + "es"
    if re.search(r"[^aeiou]y$", lowered):
        return verb[:-1] + "ies"
    return verb + "s"


_AUX = [
    (r"^(?:'m|am|'re|are|'s|is)\b", "is"), (r"^(?:'ve|have|has)\b", "has"),
    (r"^(?:'ll|will)\b", "will"), (r"^(?:'d rather|would rather)\b", "would rather"),
    (r"^(?:'d)\b", "would"),
]  # fmt: skip


def _predicate(rest: str, *, first_person: bool) -> str:
    """The clause after its subject, in the third person ("'m from" → "is from")."""
    rest = rest.strip()
    for pattern, replacement in _AUX:
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
    if re.fullmatch(rf"\w+ed|{_PAST_IRREGULAR}|{_NOT_CONJUGATED}", verb, re.IGNORECASE):
        return rest
    return match.group(1) + _conjugate(verb) + rest[match.end() :]


def last_entity(text: str) -> str | None:
    """The last pet or relative mentioned ("my new puppy" → "dog"), for "his name is"."""
    found = re.findall(rf"\b({_ANIMAL}|{RELATIONS})\b", text.lower())
    if not found:
        return None
    word = str(found[-1])
    return _ANIMALS.get(word, word)


def _fact(content: str, subject: str, attribute: str | None, kind: str = "fact") -> ExtractedFact:
    key = _key(subject, attribute) if attribute else None
    return ExtractedFact(re.sub(r"\s+", " ", content).strip(), key, kind)


def _rules(p: str, s: _Subject, speaker: str) -> Iterator[tuple[ExtractedFact, int]]:
    """Facts of one predicate, each with where its match ended (for "… and works at")."""
    who = s.text

    def obj(value: str) -> str:
        return _third_person(_clean(value), speaker)

    rules: list[tuple[str, object]] = [
        (rf"^is {_NAME}(?=\s*,|\s+and\b|$)", "name"),
        (r"^(?:is|just turned|turned) (\d{1,3})(?: years? old)?(?=\s*,|\s+and\b|$)", "age"),
        (rf"^is {_NAME}'s ((?:{RELATIONS}))\b", "relation"),
        (rf"^is (?:originally )?from {_PHRASE}", "from"),
        (rf"^(grew up|was born) in {_PHRASE}", "origin"),
        (rf"^(?:now |still )?(?:lives|is living|has lived|has been living) (in|with|near) "
         rf"{_PHRASE}", "lives"),
        (rf"^(?:just |recently |finally |has |has just )*(?:moved|relocated) to {_PHRASE}",
         "moved"),
        (rf"^(?:now |just |still )?(?:works|is working|has worked|has been working|started "
         rf"working) (?:at|for) {_PHRASE}", "works_at"),
        (rf"^(?:just )?(?:got|started|accepted|landed) (?:a |my |the )?(?:new )?job "
         rf"(?:at|with) {_PHRASE}", "works_at"),
        (rf"^works as an? {_PHRASE}", "job"),
        (rf"^works in {_PHRASE}", "works_in"),
        (rf"^(is (?:an? )?(?:huge |big |massive )?fan of|is obsessed with|is allergic to|"
         rf"is into|is learning|has been learning|is studying) {_PHRASE}", "verbatim"),
        (rf"^(?:is|has been) ({_STATES})\b", "state"),
        (rf"^is an? ({_STATES}|(?!\w+ing\b)\w+ (?:person|fan|lover|owner))\b", "state"),
        (rf"^is not an? {_PHRASE}", "not_a"),
        (rf"^(?:(?:really |also |absolutely |still )?(likes|loves|enjoys|adores)|(hates|"
         rf"dislikes|can't stand|cannot stand|(?:do|does)(?:n't| not) (?:really )?(?:like|"
         rf"enjoy)|no longer likes?|stopped liking)) {_PHRASE}", "preference"),
        (rf"^prefers {_PHRASE}", "prefers"),
        (rf"^would rather {_PHRASE}", "rather"),
        (rf"^(?:do|does)(?:n't| not) ({_NEGATABLE})\b\s*([^.,;!?]{{0,40}}?){_END}", "negation"),
        (rf"^has (a|an|one|two|three|four|five|six|\d+) ({_ANIMAL}|\w+s)\b(?! named| called)"
         rf"(?! \w+ (?:named|called))", "count"),
        (r"^has (diabetes|asthma|adhd|autism|epilepsy|celiac disease|anxiety|depression|"
         r"migraines|a disability)\b", "condition"),
        (rf"^(?:usually |still |also )?({_HABITS}) {_PHRASE}", "habit"),
    ]  # fmt: skip
    if s.is_speaker:
        if m := _JOB.match(p):
            yield _fact(f"{who} works as a {m.group(1)}", who, "job"), m.end()
            return
    elif m := re.match(rf"^is an? {_PHRASE}", p, re.IGNORECASE):
        yield _fact(f"{who} is a {obj(m.group(1))}", who, "job"), m.end()
        return
    for pattern, kind in rules:
        m = re.match(pattern, p, re.IGNORECASE)
        if not m:
            continue
        if kind == "name":
            if not s.is_speaker or m.group(1).lower() in _NOT_NAMES:
                continue
            yield (
                ExtractedFact(
                    f"{who}'s name is {m.group(1)}", _key(who, "name"), "fact", None, 0.9
                ),
                m.end(),
            )
        elif kind == "age":
            yield _fact(f"{who} is {m.group(1)} years old", who, "age"), m.end()
        elif kind == "relation":
            yield _fact(f"{who} is {m.group(1)}'s {m.group(2).lower()}", who, None), m.end()
        elif kind == "from":
            yield _fact(f"{who} is from {obj(m.group(1))}", who, "from"), m.end()
        elif kind == "origin":
            yield _fact(f"{who} {m.group(1).lower()} in {obj(m.group(2))}", who, "from"), m.end()
        elif kind == "lives":
            prep, where = m.group(1).lower(), obj(m.group(2))
            yield _fact(f"{who} lives {prep} {where}", who, f"lives_{prep}"), m.end()
        elif kind == "moved":
            yield _fact(f"{who} moved to and lives in {obj(m.group(1))}", who, "lives_in"), m.end()
        elif kind == "works_at":
            yield _fact(f"{who} works at {obj(m.group(1))}", who, "works_at"), m.end()
        elif kind == "job":
            yield _fact(f"{who} works as a {obj(m.group(1))}", who, "job"), m.end()
        elif kind == "works_in":
            yield _fact(f"{who} works in {obj(m.group(1))}", who, "works_in"), m.end()
        elif kind == "state":
            yield _fact(f"{who} {m.group(0)}", who, f"state:{m.group(1)}"), m.end()
        elif kind == "not_a":
            yield _fact(f"{who} is not a {obj(m.group(1))}", who, None), m.end()
        elif kind == "verbatim":
            thing = obj(m.group(2))
            yield _fact(f"{who} {m.group(1)} {thing}", who, f"about:{thing}"), m.end()
        elif kind == "preference":
            thing = obj(m.group(3))
            if thing.lower().split()[0] in {"you", "it", "that", "this", "them", "to", "how",
                                           "when", "what", "the idea", "him", "her"}:  # fmt: skip
                continue
            verb = "likes" if m.group(1) else "dislikes"
            yield (
                ExtractedFact(f"{who} {verb} {thing}", _key(who, f"pref:{thing}"), "preference"),
                m.end(),
            )
        elif kind in ("prefers", "rather"):
            verb = "prefers" if kind == "prefers" else "would rather"
            yield ExtractedFact(f"{who} {verb} {obj(m.group(1))}", None, "preference"), m.end()
        elif kind == "negation":
            tail = f" {obj(m.group(2))}" if m.group(2).strip() else ""
            yield (
                _fact(f"{who} doesn't {m.group(1).lower()}{tail}", who, f"no:{m.group(1)}{tail}"),
                m.end(),
            )
        elif kind == "count":
            yield _fact(f"{who} has {m.group(1)} {m.group(2)}", who, f"count:{m.group(2)}"), m.end()
        elif kind == "condition":
            yield _fact(f"{who} has {m.group(1)}", who, f"condition:{m.group(1)}"), m.end()
        elif kind == "habit":
            verb = m.group(1)
            verb = verb if verb.lower().endswith("s") else _conjugate(verb)
            thing = obj(m.group(2))
            yield _fact(f"{who} {verb} {thing}", who, f"{verb}:{thing}"), m.end()
        return


def _dated(p: str, s: _Subject, clause: str, speaker: str, at: datetime) -> ExtractedFact | None:
    """An event (past verb) or a plan (future, needs a date) of one clause."""
    when = resolve_relative(clause, at)
    event = re.match(
        rf"^((?:just |finally |recently |already )?(\w+ed|{_PAST_IRREGULAR})\b[^.;!?]{{0,80}}?)"
        rf"(?=[.;!?]|,\s*(?:his|her|its|their|and|but)\b|$)",
        p, re.IGNORECASE,
    )  # fmt: skip
    plan = re.match(
        r"^((?:is|will|is going to|is planning to|is hoping to|plans to) (?!not\b|so\b|sure\b|"
        r"sorry\b|glad\b|happy\b|fine\b|good\b|tired\b|feeling\b|doing\b|back\b|excited\b|"
        r"bored\b|going to bed\b|a\b|an\b|the\b)[a-z][^.;!?]{2,80}?|has (?:a|an) [^.;!?]{2,60}?)"
        r"(?=[.;!?]|$)",
        p, re.IGNORECASE,
    )  # fmt: skip
    if event and event.group(2).lower() not in _NOT_EVENTS:
        body, kind = event.group(1), "event"
        day = when.day if when else at.date()
        if when and day > at.date() and re.search(r"day\b", when.phrase):
            day -= timedelta(days=7)  # "I painted it on Saturday": the past one
    elif plan and when is not None:
        body, kind, day = plan.group(1), "plan", when.day
    else:
        return None
    if when is not None:
        body = re.sub(rf",?\s*\b{re.escape(when.phrase)}\b", "", body, flags=re.IGNORECASE)
    body = _third_person(re.sub(r"\s+", " ", body).strip(" ,"), speaker)
    return ExtractedFact(f"{s.text} {body} (on {day.isoformat()})", None, kind, day, 0.6)


def _named_people_and_pets(text: str, s: str, previous: str | None) -> Iterator[ExtractedFact]:
    owner = rf"(?:my (?P<rel>{RELATIONS})'s |(?:my|a|our)\s+)"
    for m in re.finditer(
        rf"\b{owner}(?:new\s+|little\s+|old\s+)?(?P<a>{_ANIMAL}){_NAMED}{_NAME}", text, re.I
    ):
        kind = _ANIMALS[m.group("a").lower()]
        who = f"{s}'s {m.group('rel').lower()}" if m.group("rel") else s
        content = f"{who} has a {kind} named {m.groups()[-1]}"
        yield ExtractedFact(content, _key(who, f"pet:{kind}:name"), "fact", None, 0.85)
    for m in re.finditer(
        rf"\bmy ((?:best |older |younger |little |big )?(?:{RELATIONS})){_NAMED}{_NAME}",
        text,
        re.IGNORECASE,
    ):
        relation = m.group(1).lower()
        content = f"{s}'s {relation} is named {m.group(2)}"
        yield ExtractedFact(content, _key(s, f"rel:{relation}:name"), "fact", None, 0.85)
    pronoun = re.search(rf"\b(?:his|her|its|their) name(?: is|'s)\s+{_NAME}", text, re.I)
    entity = (last_entity(text[: pronoun.start()]) or previous) if pronoun else None
    if pronoun and entity:
        if entity in _ANIMALS.values():
            content, key = f"{s} has a {entity} named {pronoun.group(1)}", f"pet:{entity}:name"
        else:
            content, key = f"{s}'s {entity} is named {pronoun.group(1)}", f"rel:{entity}:name"
        yield ExtractedFact(content, _key(s, key), "fact", None, 0.75)


def _whole_message(text: str, s: str) -> Iterator[ExtractedFact]:
    if m := re.search(rf"\b(?:my name is|call me|calls me|my name's) {_NAME}", text, re.I):
        yield ExtractedFact(f"{s}'s name is {m.group(1)}", _key(s, "name"), "fact", None, 0.9)
    favourite = None
    if m := re.search(rf"\bmy favou?rite ([a-z ]{{2,30}}?) is {_PHRASE}", text, re.I):
        favourite = (m.group(1), m.group(2))
    elif m := re.search(
        rf"(?:^|\. ){_NAME_PHRASE} (?:is|are) my favou?rite ([a-z ]{{2,30}}?){_END}", text
    ):
        favourite = (m.group(2), m.group(1))
    if favourite is not None:
        thing, value = _clean(favourite[0]), _clean(favourite[1])
        content = f"{s}'s favorite {thing} is {value}"
        yield ExtractedFact(content, _key(s, f"favorite:{thing}"), "preference")
    for m in re.finditer(rf"\bmy ([a-z]+(?: [a-z]+)?) is {_PHRASE}", text, re.IGNORECASE):
        attribute = m.group(1).lower()
        if attribute.split()[-1] in _TRANSIENT or attribute.startswith("favo"):
            continue
        if re.search(rf"\b({RELATIONS}|name|{_ANIMAL})\b", attribute):
            continue
        value = _clean(m.group(2))
        if re.match(r"(?:not|none|so|too|very|really|getting|being)\b", value, re.I):
            continue
        yield ExtractedFact(f"{s}'s {attribute} is {value}", _key(s, attribute), "fact")


_NAME_PHRASE = r"([A-Z][\w' -]{1,40}?)"


def _subject(clause: str, speaker: str) -> tuple[_Subject, str] | None:
    m = _SUBJECT.match(clause)
    if m is None:
        return None
    rest = clause[m.end() :]
    if m.group("me"):
        return _Subject(speaker, True), _predicate(rest, first_person=True)
    relation = re.sub(r"\s+", " ", m.group("rel").lower())
    owner = f"{speaker}'s {relation}"
    if m.group("rel2"):
        second = _ANIMALS.get(m.group("rel2").lower(), m.group("rel2").lower())
        owner = f"{owner}'s {second}"
    who = m.group("name") or owner
    if m.group("and_i"):
        return _Subject(f"{speaker} and {owner}", False), _predicate(rest, first_person=True)
    return _Subject(who, False), _predicate(rest, first_person=False)


def _clause_facts(clause: str, speaker: str, at: datetime) -> Iterator[ExtractedFact]:
    parsed = _subject(clause, speaker)
    if parsed is None:
        return
    subject, predicate = parsed
    for _ in range(3):  # "lives in Chicago and works at Boeing": up to three predicates
        found = list(_rules(predicate, subject, speaker))
        if not found:
            dated = _dated(predicate, subject, clause, speaker, at)
            if dated is not None:
                yield dated
            return
        fact, end = found[0]
        yield fact
        if fact.fact_key and fact.fact_key.endswith("|lives_in") and "moved" in predicate:
            when = resolve_relative(clause, at)
            if when is not None:  # the move's own date, when the clause gives one
                yield ExtractedFact(
                    f"{subject.text} moved to {_clean(predicate.split(' to ', 1)[1])} "
                    f"(on {when.day.isoformat()})", None, "event", when.day, 0.6,
                )  # fmt: skip
        tail = re.match(r"^\s*,?\s*(?:and|but)\s+(?!i\b|my\b)(.+)$", predicate[end:], re.I)
        if tail is None:
            return
        rest = tail.group(1)
        predicate = f"is {rest}" if re.match(r"\w+ing\b", rest) else rest


def extract_facts(
    text: str,
    *,
    speaker: str,
    at: datetime,
    previous_entity: str | None = None,
) -> list[ExtractedFact]:
    """Facts the speaker states in ``text``, about themselves or people they name.

    Args:
        text: one message.
        speaker: the name to write facts with ("User" when unknown).
        at: the message's time, for relative dates.
        previous_entity: the last pet or relative mentioned earlier in the conversation,
            so "His name is Sparky" can be resolved.

    Returns:
        Facts in the order found, without duplicates of the same key or content.
    """
    s = speaker.strip() or "User"
    asserted = clauses(text)
    kept = " . ".join(c.text for c in asserted)
    candidates = [
        *_whole_message(kept, s),
        *_named_people_and_pets(kept, s, previous_entity),
        *(fact for c in asserted for fact in _clause_facts(c.text, s, at)),
    ]
    found: list[ExtractedFact] = []
    for fact in candidates:
        if any(
            f.content.lower() == fact.content.lower()
            or (fact.fact_key is not None and f.fact_key == fact.fact_key)
            for f in found
        ):
            continue
        found.append(fact)
    return found
