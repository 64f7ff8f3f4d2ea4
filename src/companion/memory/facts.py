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
from companion.memory.facts_grammar import (
    ANIMAL,
    ANIMALS,
    END,
    HABITS,
    JOB,
    NAME,
    NAMED,
    NEGATABLE,
    NOT_EVENTS,
    NOT_NAMES,
    PAST_IRREGULAR,
    PHRASE,
    STATES,
    SUBJECT,
    TRANSIENT,
    Subject,
    clean,
    conjugate,
    fact_key,
    last_entity,
    predicate,
    third_person,
)
from companion.memory.facts_text import RELATIONS, clauses

__all__ = ["ExtractedFact", "extract_facts", "last_entity"]


@dataclass(frozen=True)
class ExtractedFact:
    """One atomic statement about the speaker or someone they named.

    ``kind`` is ``fact``, ``preference``, ``event`` or ``plan`` (the service API's types).
    ``event_day`` is the resolved date of an event or plan, if the text gave one.
    """

    content: str
    fact_key: str | None
    kind: str
    event_day: date | None = None
    confidence: float = 0.7


def _fact(content: str, subject: str, attribute: str | None, kind: str = "fact") -> ExtractedFact:
    key = fact_key(subject, attribute) if attribute else None
    return ExtractedFact(re.sub(r"\s+", " ", content).strip(), key, kind)


def _rules(p: str, s: Subject, speaker: str) -> Iterator[tuple[ExtractedFact, int]]:
    """Facts of one predicate, each with where its match ended (for "… and works at")."""
    who = s.text

    def obj(value: str) -> str:
        return third_person(clean(value), speaker)

    rules: list[tuple[str, object]] = [
        (rf"^is {NAME}(?=\s*,|\s+and\b|$)", "name"),
        (r"^(?:is|just turned|turned) (\d{1,3})(?: years? old)?(?=\s*,|\s+and\b|$)", "age"),
        (rf"^is {NAME}'s ((?:{RELATIONS}))\b", "relation"),
        (rf"^is (?:originally )?from {PHRASE}", "from"),
        (rf"^(grew up|was born) in {PHRASE}", "origin"),
        (rf"^(?:now |still )?(?:lives|is living|has lived|has been living) (in|with|near) "
         rf"{PHRASE}", "lives"),
        (rf"^(?:just |recently |finally |has |has just )*(?:moved|relocated) to {PHRASE}",
         "moved"),
        (rf"^(?:now |just |still )?(?:works|is working|has worked|has been working|started "
         rf"working) (?:at|for) {PHRASE}", "works_at"),
        (rf"^(?:just )?(?:got|started|accepted|landed) (?:a |my |the )?(?:new )?job "
         rf"(?:at|with) {PHRASE}", "works_at"),
        (rf"^works as an? {PHRASE}", "job"),
        (rf"^works in {PHRASE}", "works_in"),
        (rf"^(is (?:an? )?(?:huge |big |massive )?fan of|is obsessed with|is allergic to|"
         rf"is into|is learning|has been learning|is studying) {PHRASE}", "verbatim"),
        (rf"^(?:is|has been) ({STATES})\b", "state"),
        (rf"^is an? ({STATES}|(?!\w+ing\b)\w+ (?:person|fan|lover|owner))\b", "state"),
        (rf"^is not an? {PHRASE}", "not_a"),
        (rf"^(?:(?:really |also |absolutely |still )?(likes|loves|enjoys|adores)|(hates|"
         rf"dislikes|can't stand|cannot stand|(?:do|does)(?:n't| not) (?:really )?(?:like|"
         rf"enjoy)|no longer likes?|stopped liking)) {PHRASE}", "preference"),
        (rf"^prefers {PHRASE}", "prefers"),
        (rf"^would rather {PHRASE}", "rather"),
        (rf"^(?:do|does)(?:n't| not) ({NEGATABLE})\b\s*([^.,;!?]{{0,40}}?){END}", "negation"),
        (rf"^has (a|an|one|two|three|four|five|six|\d+) ({ANIMAL}|\w+s)\b(?! named| called)"
         rf"(?! \w+ (?:named|called))", "count"),
        (r"^has (diabetes|asthma|adhd|autism|epilepsy|celiac disease|anxiety|depression|"
         r"migraines|a disability)\b", "condition"),
        (rf"^(?:usually |still |also )?({HABITS}) {PHRASE}", "habit"),
    ]  # fmt: skip
    if s.is_speaker:
        if m := JOB.match(p):
            yield _fact(f"{who} works as a {m.group(1)}", who, "job"), m.end()
            return
    elif m := re.match(rf"^is an? {PHRASE}", p, re.IGNORECASE):
        yield _fact(f"{who} is a {obj(m.group(1))}", who, "job"), m.end()
        return
    for pattern, kind in rules:
        m = re.match(pattern, p, re.IGNORECASE)
        if not m:
            continue
        if kind == "name":
            if not s.is_speaker or m.group(1).lower() in NOT_NAMES:
                continue
            yield (
                ExtractedFact(
                    f"{who}'s name is {m.group(1)}", fact_key(who, "name"), "fact", None, 0.9
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
                ExtractedFact(
                    f"{who} {verb} {thing}", fact_key(who, f"pref:{thing}"), "preference"
                ),
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
            verb = verb if verb.lower().endswith("s") else conjugate(verb)
            thing = obj(m.group(2))
            yield _fact(f"{who} {verb} {thing}", who, f"{verb}:{thing}"), m.end()
        return


def _dated(p: str, s: Subject, clause: str, speaker: str, at: datetime) -> ExtractedFact | None:
    """An event (past verb) or a plan (future, needs a date) of one clause."""
    when = resolve_relative(clause, at)
    event = re.match(
        rf"^((?:just |finally |recently |already )?(\w+ed|{PAST_IRREGULAR})\b[^.;!?]{{0,80}}?)"
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
    if event and event.group(2).lower() not in NOT_EVENTS:
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
    body = third_person(re.sub(r"\s+", " ", body).strip(" ,"), speaker)
    return ExtractedFact(f"{s.text} {body} (on {day.isoformat()})", None, kind, day, 0.6)


def _named_people_and_pets(text: str, s: str, previous: str | None) -> Iterator[ExtractedFact]:
    owner = rf"(?:my (?P<rel>{RELATIONS})'s |(?:my|a|our)\s+)"
    for m in re.finditer(
        rf"\b{owner}(?:new\s+|little\s+|old\s+)?(?P<a>{ANIMAL}){NAMED}{NAME}", text, re.I
    ):
        kind = ANIMALS[m.group("a").lower()]
        who = f"{s}'s {m.group('rel').lower()}" if m.group("rel") else s
        content = f"{who} has a {kind} named {m.groups()[-1]}"
        yield ExtractedFact(content, fact_key(who, f"pet:{kind}:name"), "fact", None, 0.85)
    for m in re.finditer(
        rf"\bmy ((?:best |older |younger |little |big )?(?:{RELATIONS})){NAMED}{NAME}",
        text,
        re.IGNORECASE,
    ):
        relation = m.group(1).lower()
        content = f"{s}'s {relation} is named {m.group(2)}"
        yield ExtractedFact(content, fact_key(s, f"rel:{relation}:name"), "fact", None, 0.85)
    pronoun = re.search(rf"\b(?:his|her|its|their) name(?: is|'s)\s+{NAME}", text, re.I)
    entity = (last_entity(text[: pronoun.start()]) or previous) if pronoun else None
    if pronoun and entity:
        if entity in ANIMALS.values():
            content, key = f"{s} has a {entity} named {pronoun.group(1)}", f"pet:{entity}:name"
        else:
            content, key = f"{s}'s {entity} is named {pronoun.group(1)}", f"rel:{entity}:name"
        yield ExtractedFact(content, fact_key(s, key), "fact", None, 0.75)


def _whole_message(text: str, s: str) -> Iterator[ExtractedFact]:
    if m := re.search(rf"\b(?:my name is|call me|calls me|my name's) {NAME}", text, re.I):
        yield ExtractedFact(f"{s}'s name is {m.group(1)}", fact_key(s, "name"), "fact", None, 0.9)
    favourite = None
    if m := re.search(rf"\bmy favou?rite ([a-z ]{{2,30}}?) is {PHRASE}", text, re.I):
        favourite = (m.group(1), m.group(2))
    elif m := re.search(
        rf"(?:^|\. ){_NAME_PHRASE} (?:is|are) my favou?rite ([a-z ]{{2,30}}?){END}", text
    ):
        favourite = (m.group(2), m.group(1))
    if favourite is not None:
        thing, value = clean(favourite[0]), clean(favourite[1])
        content = f"{s}'s favorite {thing} is {value}"
        yield ExtractedFact(content, fact_key(s, f"favorite:{thing}"), "preference")
    for m in re.finditer(rf"\bmy ([a-z]+(?: [a-z]+)?) is {PHRASE}", text, re.IGNORECASE):
        attribute = m.group(1).lower()
        if attribute.split()[-1] in TRANSIENT or attribute.startswith("favo"):
            continue
        if re.search(rf"\b({RELATIONS}|name|{ANIMAL})\b", attribute):
            continue
        value = clean(m.group(2))
        if re.match(r"(?:not|none|so|too|very|really|getting|being)\b", value, re.I):
            continue
        yield ExtractedFact(f"{s}'s {attribute} is {value}", fact_key(s, attribute), "fact")


_NAME_PHRASE = r"([A-Z][\w' -]{1,40}?)"


def _subject(clause: str, speaker: str) -> tuple[Subject, str] | None:
    m = SUBJECT.match(clause)
    if m is None:
        return None
    rest = clause[m.end() :]
    if m.group("me"):
        return Subject(speaker, True), predicate(rest, first_person=True)
    relation = re.sub(r"\s+", " ", m.group("rel").lower())
    owner = f"{speaker}'s {relation}"
    if m.group("rel2"):
        second = ANIMALS.get(m.group("rel2").lower(), m.group("rel2").lower())
        owner = f"{owner}'s {second}"
    who = m.group("name") or owner
    if m.group("and_i"):
        return Subject(f"{speaker} and {owner}", False), predicate(rest, first_person=True)
    return Subject(who, False), predicate(rest, first_person=False)


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
                place = fact.content.split(" lives in ", 1)[-1]
                yield ExtractedFact(
                    f"{subject.text} moved to {place} (on {when.day.isoformat()})",
                    None, "event", when.day, 0.6,
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
