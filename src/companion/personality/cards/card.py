"""Character Card V1/V2/V3 (SillyTavern and friends): parse, render, export. Pure.

Accepted: JSON (V1 flat, V2 ``chara_card_v2``, V3 ``chara_card_v3``), PNG with the
card base64-encoded in a ``tEXt`` chunk (``ccv3`` preferred over ``chara``) and V3's
``.charx`` zip (``card.json``). A card is *data*: its text reaches the prompt only
inside a fence that says so, and nothing in it can switch off our safety rules.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zipfile
from dataclasses import asdict, dataclass, field
from typing import Any

from companion.conversation.lore import LoreEntry
from companion.errors import InvalidInput
from companion.personality.cards.png import add_text_chunks, placeholder_png, read_text_chunks

__all__ = ["MAX_CARD_BYTES", "Card", "apply_macros", "export_json", "export_png", "parse_card"]

MAX_CARD_BYTES = 8 * 1024 * 1024
_TEXT_FIELDS = (
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "system_prompt",
    "post_history_instructions",
    "creator_notes",
)


@dataclass(frozen=True)
class Card:
    """The fields we use from a character card, normalised across versions."""

    name: str
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_mes: str = ""
    mes_example: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""
    creator_notes: str = ""
    alternate_greetings: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    creator: str = ""
    character_version: str = ""
    lorebook: tuple[LoreEntry, ...] = ()
    lorebook_scan_depth: int = 3
    extensions: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (how we store the card)."""
        d = asdict(self)
        d["lorebook"] = [asdict(e) for e in self.lorebook]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Card:
        """The inverse of ``to_dict``."""
        lore = tuple(
            LoreEntry(
                **{
                    **e,
                    "keys": tuple(e["keys"]),
                    "secondary_keys": tuple(e.get("secondary_keys", ())),
                }
            )
            for e in d.get("lorebook", [])
        )
        return cls(
            **{k: d[k] for k in ("name", *_TEXT_FIELDS, "creator", "character_version") if k in d},
            alternate_greetings=tuple(d.get("alternate_greetings", ())),
            tags=tuple(d.get("tags", ())),
            lorebook=lore,
            lorebook_scan_depth=int(d.get("lorebook_scan_depth", 3)),
            extensions=dict(d.get("extensions", {})),
        )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _lore(book: object) -> tuple[tuple[LoreEntry, ...], int]:
    if not isinstance(book, dict):
        return (), 3
    entries = []
    for i, raw in enumerate(book.get("entries") or []):
        if not isinstance(raw, dict) or not _text(raw.get("content")).strip():
            continue
        order = raw.get("insertion_order", raw.get("order", i))
        priority = raw.get("priority")
        entries.append(
            LoreEntry(
                keys=_strings(raw.get("keys")),
                content=_text(raw.get("content")),
                enabled=raw.get("enabled", True) is not False,
                order=int(order) if isinstance(order, int | float) else i,
                constant=raw.get("constant") is True,
                case_sensitive=raw.get("case_sensitive") is True,
                name=_text(raw.get("name") or raw.get("comment")),
                secondary_keys=_strings(raw.get("secondary_keys")),
                selective=raw.get("selective") is True,
                priority=int(priority) if isinstance(priority, int | float) else 0,
                position="before_char" if raw.get("position") == "before_char" else "after_char",
            )
        )
    depth = book.get("scan_depth")
    return tuple(entries), int(depth) if isinstance(depth, int) and 0 < depth <= 100 else 3


def _from_json(obj: object) -> Card:
    if not isinstance(obj, dict):
        raise InvalidInput("file: a character card must be a JSON object")
    spec = obj.get("spec")
    if spec in ("chara_card_v2", "chara_card_v3"):
        data = obj.get("data")
        if not isinstance(data, dict):
            raise InvalidInput(f"file: a {spec} card needs a 'data' object")
    elif spec is None:
        data = obj  # V1: the fields at the top level
    else:
        raise InvalidInput(f"file: unknown card spec {spec!r}")
    name = _text(data.get("name")).strip()
    if not name:
        raise InvalidInput("file: the card has no name")
    lore, depth = _lore(data.get("character_book"))
    extensions = data.get("extensions")
    return Card(
        name=name[:100],
        **{f: _text(data.get(f)) for f in _TEXT_FIELDS},
        alternate_greetings=_strings(data.get("alternate_greetings")),
        tags=_strings(data.get("tags")),
        creator=_text(data.get("creator")),
        character_version=_text(data.get("character_version")),
        lorebook=lore,
        lorebook_scan_depth=depth,
        extensions=extensions if isinstance(extensions, dict) else {},
    )


def _json_bytes(raw: bytes) -> Card:
    try:
        return _from_json(json.loads(raw.decode("utf-8-sig")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"file: not valid card JSON ({exc.__class__.__name__})") from None


def _from_png(data: bytes) -> Card:
    texts = read_text_chunks(data)
    for key in ("ccv3", "chara"):
        if key in texts:
            try:
                return _json_bytes(base64.b64decode(texts[key], validate=False))
            except binascii.Error:
                raise InvalidInput(f"file: the PNG's {key!r} chunk is not base64") from None
    raise InvalidInput("file: the PNG holds no character card ('chara' or 'ccv3' tEXt chunk)")


def _from_charx(data: bytes) -> Card:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("card.json")
            if info.file_size > MAX_CARD_BYTES:
                raise InvalidInput("file: card.json in the .charx is too large")
            return _json_bytes(archive.read(info))
    except KeyError:
        raise InvalidInput("file: the .charx archive has no card.json") from None
    except zipfile.BadZipFile:
        raise InvalidInput("file: not a valid .charx (zip) archive") from None


def parse_card(data: bytes, filename: str = "") -> Card:
    """The card in ``data`` (JSON, PNG or .charx, recognised by content)."""
    if not data:
        raise InvalidInput("file: empty upload")
    if len(data) > MAX_CARD_BYTES:
        raise InvalidInput(f"file: over the {MAX_CARD_BYTES // (1024 * 1024)} MiB limit")
    if data.startswith(b"\x89PNG"):
        return _from_png(data)
    if data.startswith(b"PK\x03\x04"):
        return _from_charx(data)
    if data.lstrip()[:1] in (b"{", b"\xef"):
        return _json_bytes(data)
    raise InvalidInput(f"file: {filename or 'upload'} is not a JSON, PNG or .charx card")


_MACRO = re.compile(r"\{\{\s*(char|user)\s*\}\}|<(BOT|USER)>", re.IGNORECASE)


def apply_macros(text: str, *, char: str, user: str) -> str:
    """``{{char}}``/``<BOT>`` → the companion's name, ``{{user}}``/``<USER>`` → the user's."""

    def swap(m: re.Match[str]) -> str:
        which = (m.group(1) or m.group(2)).lower()
        return char if which in ("char", "bot") else user

    return _MACRO.sub(swap, text)


def _data(card: Card) -> dict[str, Any]:
    d: dict[str, Any] = {f: getattr(card, f) for f in ("name", *_TEXT_FIELDS)}
    d.update(
        alternate_greetings=list(card.alternate_greetings),
        tags=list(card.tags),
        creator=card.creator,
        character_version=card.character_version,
        extensions=card.extensions,
    )
    if card.lorebook:
        d["character_book"] = {
            "scan_depth": card.lorebook_scan_depth,
            "extensions": {},
            "entries": [
                {
                    "keys": list(e.keys),
                    "content": e.content,
                    "enabled": e.enabled,
                    "insertion_order": e.order,
                    "constant": e.constant,
                    "case_sensitive": e.case_sensitive,
                    "name": e.name,
                    "selective": e.selective,
                    "secondary_keys": list(e.secondary_keys),
                    "priority": e.priority,
                    "position": e.position,
                    "extensions": {},
                }
                for e in card.lorebook
            ],
        }
    return d


def export_json(card: Card, version: int = 2) -> dict[str, Any]:
    """The card as a V2 or V3 object."""
    if version not in (2, 3):
        raise InvalidInput("format: version must be 2 or 3")
    data = _data(card)
    if version == 3:
        data.update(group_only_greetings=[], assets=[])
        return {"spec": "chara_card_v3", "spec_version": "3.0", "data": data}
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}


def export_png(card: Card, version: int = 2, image: bytes | None = None) -> bytes:
    """A PNG carrying the card: ``chara`` (V2) and, for V3, ``ccv3`` as well."""
    texts = {"chara": base64.b64encode(json.dumps(export_json(card, 2)).encode()).decode()}
    if version == 3:
        texts["ccv3"] = base64.b64encode(json.dumps(export_json(card, 3)).encode()).decode()
    return add_text_chunks(image or placeholder_png(), texts)
