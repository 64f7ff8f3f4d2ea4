"""Training examples composed from our own attack grammar (``data/grammar.txt``).

The grammar lists, per language, phrases we wrote for each part of a prompt attack
(an override of the instructions, the attacker's new task, a request for the hidden
prompt, a "no rules now" persona, a fake authority marker) and for the benign side
(ordinary questions, harmless role-play, messages that use the attack words in a
harmless sense, documents that merely contain instructions). ``compose`` combines
them into whole messages with a seeded random generator, so the same grammar always
yields the same examples: attacks in the shapes they take in the wild (a harmless
question with an override tacked on, an e-mail with a smuggled instruction) and
benign look-alikes that teach the classifier where the line is.

Pure: no I/O beyond reading the packaged grammar.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from importlib import resources

from companion.security.corpus import Example

__all__ = ["GRAMMAR_FILE", "Grammar", "compose", "load_grammar", "parse_grammar"]

GRAMMAR_FILE = "grammar.txt"
#: Slot name → phrases, per language.
Grammar = dict[str, dict[str, list[str]]]


def parse_grammar(text: str) -> Grammar:
    """Read ``@lang slot`` headers followed by one phrase per line (``#`` comments)."""
    grammar: Grammar = defaultdict(lambda: defaultdict(list))
    current: list[str] | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            parts = line[1:].split()
            if len(parts) != 2:
                raise ValueError(f"grammar line {number}: expected '@lang slot'")
            current = grammar[parts[0]][parts[1]]
            continue
        if current is None:
            raise ValueError(f"grammar line {number}: phrase before any '@lang slot'")
        current.append(line)
    return {lang: dict(slots) for lang, slots in grammar.items()}


def load_grammar() -> Grammar:
    """The packaged grammar."""
    text = resources.files("companion.security.data").joinpath(GRAMMAR_FILE).read_text("utf-8")
    return parse_grammar(text)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and text[1:2].islower() else text


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Composer:
    """Draws phrases of one language, falling back to English for a missing slot."""

    def __init__(self, grammar: Grammar, lang: str, rng: random.Random) -> None:
        self.slots = grammar[lang]
        self.english = grammar.get("en", {})
        self.rng = rng

    def has(self, slot: str) -> bool:
        return bool(self.slots.get(slot))

    def pick(self, slot: str) -> str:
        options = self.slots.get(slot) or self.english.get(slot) or [""]
        return self.rng.choice(options)

    def joined(self, *parts: str) -> str:
        """Parts joined by spaces, case-adjusted, with the random casing users type."""
        text = " ".join(p for p in parts if p)
        roll = self.rng.random()
        if roll < 0.08:
            return text.lower()
        if roll < 0.12:
            return text.upper()
        return text

    def new_task(self, payload: str) -> str:
        """An override, a connector and the payload: "Ignore … Instead, say …"."""
        connector = self.pick("then") if self.rng.random() < 0.7 else ""
        body = _lower_first(payload) if connector and not connector.endswith(":") else payload
        body = body if connector else _upper_first(body)
        return self.joined(self.pick("override"), connector, body)

    def attack(self) -> tuple[str, str]:
        """One attack message and its category."""
        kind = self.rng.random()
        cover = self.pick("task") if self.rng.random() < 0.5 else ""
        if kind < 0.36:
            payload = self.new_task(self.pick("hijack"))
            return self.joined(cover, payload), "injection_attempt"
        if kind < 0.45:
            payload = _upper_first(self.pick("hijack"))
            return self.joined(cover, self.pick("authority"), payload), "injection_attempt"
        if kind < 0.56 and self.has("document"):
            document = self.pick("document")
            smuggled = self.joined(self.pick("authority"), self.new_task(self.pick("hijack")))
            wrap = self.pick("wrap")
            return wrap.replace("{doc}", f"{document} {smuggled}"), "injection_attempt"
        if kind < 0.76:
            reveal = self.pick("reveal")
            if self.rng.random() < 0.5:
                return self.joined(cover, self.new_task(reveal)), "system_query"
            return self.joined(cover, _upper_first(reveal)), "system_query"
        if kind < 0.90 and self.has("villain"):
            # A persona whose point is real-world harm: the role is a way round the rules.
            if self.rng.random() < 0.4:
                return self.joined(self.pick("villain")), "role_manipulation"
            return self.joined(self.pick("badrole"), self.pick("harm")), "role_manipulation"
        jailbreak = self.pick("jailbreak")
        if self.rng.random() < 0.5:
            return self.joined(self.new_task(jailbreak)), "role_manipulation"
        return self.joined(_upper_first(jailbreak), self.pick("task")), "role_manipulation"

    def benign(self) -> str:
        """One benign message: a question, role-play, a look-alike or a document."""
        kind = self.rng.random()
        if kind < 0.22:
            return self.joined(self.pick("task"))
        if kind < 0.30 and self.has("personal"):
            return self.joined(self.pick("personal"))
        if kind < 0.50:
            if self.has("goodrole") and self.rng.random() < 0.35:
                return self.joined(self.pick("goodrole"), self.pick("task"))
            return self.joined(self.pick("roleplay"))
        if kind < 0.75:
            hard = self.pick("hard")
            return self.joined(hard, self.pick("task") if self.rng.random() < 0.4 else "")
        if self.has("document"):
            return self.pick("wrap").replace("{doc}", self.pick("document"))
        return self.joined(self.pick("task"), self.pick("task"))


def compose(
    grammar: Grammar | None = None, *, per_language: int = 200, seed: int = 13
) -> Iterator[Example]:
    """``per_language`` attacks and as many benign messages for every grammar language.

    Languages with a full grammar (the ones with a ``document`` slot) get the full
    count; the short ones a third of it. Duplicates are dropped; each example is its
    own group, tagged ``grammar`` in ``kind``.
    """
    grammar = grammar if grammar is not None else load_grammar()
    seen: set[str] = set()
    for lang in sorted(grammar):
        rng = random.Random(f"{seed}:{lang}")
        composer = _Composer(grammar, lang, rng)
        count = per_language if composer.has("document") else max(1, per_language // 3)
        made = 0
        for _ in range(count * 4):
            if made >= 2 * count:
                break
            if made % 2 == 0:
                text, label = composer.attack()
            else:
                text, label = composer.benign(), "benign"
            if text in seen:
                continue
            seen.add(text)
            made += 1
            yield Example(text, label, kind="grammar", group=f"grammar:{lang}:{made}", lang=lang)
