"""Necessary literals of a regular expression: a cheap gate before running it (pure).

``required_literals(pattern)`` reads the parsed pattern and returns a small set of
strings of which every match must contain at least one (or ``None`` when no such set
is found, and the pattern must always run). ``"ignore" in text`` is a memchr-speed scan;
a regular expression that starts with ``\\b(?:ignore|disregard|...)`` tries its
alternation at every position of the text. Checking the literals first skips most of
the ~100 rules on a long document without changing any verdict: a rule whose
literals are all absent cannot match.

The set is derived, not written by hand, so it cannot drift from the rule: literal
runs, alternations of literals and optional parts are expanded into the finite set of
strings they match (up to ``_MAX_STRINGS``), and of all the parts every match must
contain, the most selective one is kept (longest shortest string, then fewest strings).
"""

from __future__ import annotations

import importlib
import itertools
import re
from typing import Any

__all__ = ["LiteralScanner", "required_literals"]

# The parser of the ``re`` module (private, stable since 3.11; imported by name so the
# type checker does not depend on its stubs).
sre_parse: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")

#: Largest expansion of a part into the strings it matches.
_MAX_STRINGS = 256
_EMPTY: frozenset[str] = frozenset({""})

_LITERAL = sre_constants.LITERAL
_IN = sre_constants.IN
_RANGE = sre_constants.RANGE
_NEGATE = sre_constants.NEGATE
_SUBPATTERN = sre_constants.SUBPATTERN
_BRANCH = sre_constants.BRANCH
_AT = sre_constants.AT
_ASSERT = sre_constants.ASSERT
_ASSERT_NOT = sre_constants.ASSERT_NOT
_REPEATS = (
    sre_constants.MAX_REPEAT,
    sre_constants.MIN_REPEAT,
    getattr(sre_constants, "POSSESSIVE_REPEAT", sre_constants.MAX_REPEAT),
)


def _product(left: frozenset[str], right: frozenset[str]) -> frozenset[str] | None:
    if len(left) * len(right) > _MAX_STRINGS:
        return None
    return frozenset(a + b for a, b in itertools.product(left, right))


def _exact(op: Any, av: Any) -> frozenset[str] | None:
    """Every string one element matches, when that is a small finite set."""
    if op == _LITERAL:
        return frozenset({chr(av)})
    if op in (_AT, _ASSERT, _ASSERT_NOT):
        return _EMPTY  # zero-width: containment of the rest still holds
    if op == _IN:
        chars: set[str] = set()
        for item_op, item_av in av:
            if item_op == _LITERAL:
                chars.add(chr(item_av))
            elif item_op == _RANGE and item_av[1] - item_av[0] < 16:
                chars.update(chr(c) for c in range(item_av[0], item_av[1] + 1))
            else:
                return None  # negation, categories (\s, \w), wide ranges
        return frozenset(chars) if len(chars) <= _MAX_STRINGS else None
    if op == _SUBPATTERN:
        return _exact_sequence(av[-1])
    if op == _BRANCH:
        union: set[str] = set()
        for branch in av[1]:
            strings = _exact_sequence(branch)
            if strings is None:
                return None
            union |= strings
        return frozenset(union) if len(union) <= _MAX_STRINGS else None
    if op in _REPEATS:
        low, high, sub = av
        strings = _exact_sequence(sub)
        if strings is None or high > 1:
            return None
        return strings | _EMPTY if low == 0 else strings
    return None


def _exact_sequence(sequence: Any) -> frozenset[str] | None:
    result = _EMPTY
    for op, av in sequence:
        strings = _exact(op, av)
        if strings is None:
            return None
        combined = _product(result, strings)
        if combined is None:
            return None
        result = combined
    return result


def _score(strings: frozenset[str]) -> tuple[int, int, int]:
    # Each string costs one substring scan: past eight characters a literal rarely
    # occurs by chance, so fewer strings beat longer ones.
    shortest = min(len(s) for s in strings)
    return min(shortest, 8), -len(strings), shortest


def _fewest(strings: frozenset[str]) -> tuple[int, int]:
    return -len(strings), min(len(s) for s in strings)


def _candidates(sequence: Any) -> list[frozenset[str]]:
    """Sets of strings of which every match of ``sequence`` contains one (each set)."""
    candidates: list[frozenset[str]] = []
    run = _EMPTY
    for op, av in sequence:
        strings = _exact(op, av)
        if strings is not None:
            candidates.append(strings)
            combined = _product(run, strings)
            if combined is None:
                candidates.append(run)
                combined = strings
            run = combined
            continue
        candidates.append(run)
        run = _EMPTY
        if op == _SUBPATTERN:
            found = _required(av[-1])
        elif op == _BRANCH:
            found = _required_branch(av[1])
        elif op in _REPEATS and av[0] >= 1:
            found = _required(av[2])
        else:
            found = None
        if found is not None:
            candidates.append(found)
    candidates.append(run)
    return [_minimal(c) for c in candidates if c and "" not in c]


def _required(sequence: Any, key: Any = _score) -> frozenset[str] | None:
    """The best set of strings every match of ``sequence`` contains one of (or ``None``)."""
    candidates = _candidates(sequence)
    return max(candidates, key=key) if candidates else None


def _required_branch(branches: Any) -> frozenset[str] | None:
    # The most selective set per alternative first; when their union grows too big,
    # the smallest set per alternative.
    for key in (_score, _fewest):
        union: set[str] = set()
        for branch in branches:
            found = _required(branch, key)
            if found is None:
                return None
            union |= found
        minimal = _minimal(union)
        if len(minimal) <= _MAX_STRINGS:
            return minimal
    return None


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings of which every match of ``pattern`` contains one, or ``None``.

    Only for case-sensitive patterns (the rules match case-folded views): under
    IGNORECASE a literal could match in another case, so ``None`` is returned.
    """
    if pattern.flags & re.IGNORECASE:
        return None
    return _required(sre_parse.parse(pattern.pattern, pattern.flags))


def _minimal(strings: set[str] | frozenset[str]) -> frozenset[str]:
    """Drop every string that contains another one: "ignore all" holds "ignore"."""
    minimal: list[str] = []
    for text in sorted(strings, key=lambda s: (len(s), s)):
        if not any(shorter in text for shorter in minimal):
            minimal.append(text)
    return frozenset(minimal)


class LiteralScanner:
    """Finds which of many literals occur in a text in one pass of one regular expression.

    The literals become a trie written as a regular expression inside a lookahead, so
    every position of the text is tried once and the longest literal starting there is
    reported; every literal that is a prefix of a reported one occurs there too. The
    result is exactly ``{lit for lit in literals if lit in text}``, at a fraction of
    the cost of one substring scan per literal.
    """

    def __init__(self, literals: set[str] | frozenset[str]) -> None:
        """Compile the trie of ``literals`` (non-empty strings)."""
        words = sorted(lit for lit in literals if lit)
        self._regex = re.compile(f"(?=({_trie_pattern(words)}))", re.DOTALL) if words else None
        self._prefixes = {w: frozenset(p for p in words if w.startswith(p)) for w in words}

    def present(self, text: str) -> set[str]:
        """The literals that occur in ``text``."""
        found: set[str] = set()
        if self._regex is None:
            return found
        for longest in set(self._regex.findall(text)):
            found |= self._prefixes[longest]
        return found


def _trie_pattern(words: list[str]) -> str:
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a literal ends here

    def emit(node: dict[str, Any]) -> str:
        children = sorted((char, sub) for char, sub in node.items() if char)
        if not children:
            return ""
        options = [re.escape(char) + emit(sub) for char, sub in children]
        body = options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"
        # Greedy: the longer literal is tried first, so the longest one is reported.
        return f"(?:{body})?" if "" in node else body

    return emit(trie)
