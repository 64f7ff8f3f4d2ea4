"""Layer 1: undo the cheap disguises attackers use, producing several *views* of a text.

Pure and fast (no I/O). The pattern layer matches every view, so an attack spelled
with Cyrillic homoglyphs, zero-width joiners, letter spacing ("i g n o r e"),
leetspeak ("1gn0r3") or hidden in a base64/rot13/hex payload still reads as plain
text to it. Benign text only ever gains extra views; nothing is removed from the
original, so normalisation cannot create a false positive on its own.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["View", "canonical", "squash", "views"]

#: Zero-width and invisible formatting characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM,
#: soft hyphen, Mongolian vowel separator, bidi controls).
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")

#: Homoglyphs NFKC leaves alone: Cyrillic and Greek letters that look Latin.
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ⅼ": "l", "ո": "n", "ս": "u",
        "в": "b", "м": "m", "н": "h", "т": "t", "к": "k",
        "α": "a", "ο": "o", "ρ": "p", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "τ": "t",
        "υ": "u", "χ": "x", "γ": "y",
    }
)  # fmt: skip

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i",
     "|": "l", "+": "t"}
)  # fmt: skip

#: Single characters separated by spaces, dots, dashes or underscores: "i g n o r e".
_SPACED = re.compile(r"\b(?:[^\W_](?:[ .\-_*/]|\s{2,4}){1,3}){3,}[^\W_]\b")
_WS = re.compile(r"\s+")
_B64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}[\s:]?){8,}")


#: Words that tell a readable text (attack or not) from gibberish: a rot13 view is only
#: worth matching when it reads more like language than the text itself.
_COMMON_WORDS = frozenset(
    "the and you your to of is in it that for on with this all me my what are be not now "
    "tell say ignore previous instructions system prompt rules reveal print show secret".split()
)
_WORD = re.compile(r"[a-z]+")
_ROT13_SAMPLE = 600
#: A letter next to a digit or symbol leetspeak uses ("1gn0r3", "h4ck"); "!" only
#: between letters ("!" ends half the sentences in chat).
_LEET_TOKEN = re.compile(r"[^\W\d_][0-9@$|+]|[0-9@$|+][^\W\d_]|[^\W\d_]![^\W\d_]")
#: Characters of context kept around each leetspeak token in the leet view.
_LEET_CONTEXT = 160


@dataclass(frozen=True, slots=True)
class View:
    """One reading of the message: ``name`` says which transformation produced it."""

    name: str
    text: str


def _unmask(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return _INVISIBLE.sub("", text).translate(_CONFUSABLES).casefold()


def canonical(text: str) -> str:
    """NFKC, homoglyphs mapped, invisible characters removed, case folded, spaces collapsed."""
    return _WS.sub(" ", _unmask(text)).strip()


def _join_letters(run: str) -> str:
    # Two or more spaces between letter groups mark the word gaps: "i g n o r e  a l l".
    words = re.split(r"\s{2,}", run.strip())
    return " ".join(re.sub(r"[ .\-_*/]", "", word) for word in words)


def _despace(text: str) -> str:
    return _WS.sub(" ", _SPACED.sub(lambda m: _join_letters(m.group(0)), text)).strip()


def _common_words(text: str) -> int:
    return sum(1 for word in _WORD.findall(text) if word in _COMMON_WORDS)


def _looks_rot13(text: str) -> bool:
    """Whether the rot13 reading of ``text`` reads more like words than the text does.

    Judged on the first ``_ROT13_SAMPLE`` characters: a message is encoded as a whole.
    """
    sample = text[:_ROT13_SAMPLE]
    return _common_words(codecs.decode(sample, "rot13")) > _common_words(sample)


def _leet_windows(text: str) -> str:
    """The parts of ``text`` around leetspeak-looking tokens (empty when there are none).

    A long pasted document with a few dates or prices would otherwise be matched a
    second time in full; only the neighbourhood of "1gn0r3"-like tokens can read
    differently once the digits become letters.
    """
    spans: list[list[int]] = []
    for match in _LEET_TOKEN.finditer(text):
        start = max(0, match.start() - _LEET_CONTEXT)
        end = min(len(text), match.end() + _LEET_CONTEXT)
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return " … ".join(text[start:end] for start, end in spans)


def squash(text: str) -> str:
    """Letters only ("ignoreallpreviousinstructions"), for single-spaced letter runs."""
    return re.sub(r"[^\w]|_", "", text)


def _printable(raw: bytes) -> str | None:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(ch.isalpha() or ch.isspace() for ch in decoded)
    # A real hidden instruction is mostly letters; random bytes rarely are.
    return decoded if len(decoded) >= 6 and letters / len(decoded) > 0.7 else None


def _decode_base64(text: str) -> list[str]:
    found = []
    for token in _B64.findall(text):
        padded = token + "=" * (-len(token) % 4)
        try:
            raw = base64.b64decode(padded, altchars=b"-_" if "-" in token or "_" in token else None)
        except (binascii.Error, ValueError):
            continue
        if (decoded := _printable(raw)) is not None:
            found.append(decoded)
    return found


def _decode_hex(text: str) -> list[str]:
    found = []
    for token in _HEX.findall(text):
        digits = re.sub(r"[\s:]", "", token)
        if len(digits) % 2:
            digits = digits[:-1]
        if (decoded := _printable(bytes.fromhex(digits))) is not None:
            found.append(decoded)
    return found


def views(text: str) -> list[View]:
    """Every reading of ``text`` the pattern layer should check, the plain one first.

    Args:
        text: the raw user message.

    Returns:
        ``canonical`` first, then de-spaced, leetspeak (only around tokens mixing
        letters and digits), rot13 (only when it reads more like words than the text),
        letters-only (when letters are spaced out) and decoded payloads
        (each decoded payload itself canonicalised), without duplicates.
    """
    unmasked = _unmask(text)
    base = _WS.sub(" ", unmasked).strip()
    candidates = [View("canonical", base)]
    despaced = _despace(unmasked)
    candidates.append(View("despaced", despaced))
    if leet := _leet_windows(despaced):
        candidates.append(View("leet", _despace(leet.translate(_LEET))))
    if _looks_rot13(base):
        candidates.append(View("rot13", codecs.decode(base, "rot13")))
    if _SPACED.search(unmasked):
        # Letter-spaced text without clear word gaps: match key phrases letters-only.
        candidates.append(View("squashed", squash(despaced.translate(_LEET))))
    for payload in _decode_base64(text):
        candidates.append(View("base64", canonical(payload)))
    for payload in _decode_hex(text):
        candidates.append(View("hex", canonical(payload)))
    # Squashed views run different rules, so they are only deduplicated among themselves.
    seen: set[tuple[bool, str]] = set()
    unique = []
    for view in candidates:
        key = (view.name == "squashed", view.text)
        if key not in seen:
            seen.add(key)
            unique.append(view)
    return unique
