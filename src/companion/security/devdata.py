"""The public development data (never in the repository): injection corpus and chat turns.

``injection-dev.jsonl`` (``../shared/data/`` by default) holds public attacks and benign
prompts with ``label``, ``category``, ``lang``, ``source``, ``train_ok`` and sometimes
``group``. A fixed fifth of its groups is the *dev hold-out*: chosen by a hash of the
group before any tuning, never trained or tuned on, measured once at the end.
``locomo-dev.json`` supplies benign companion chat: every turn's text of every session.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path

from companion.errors import InvalidInput

__all__ = [
    "DEFAULT_DATA_DIR",
    "DevItem",
    "chat_turns",
    "is_dev_holdout",
    "load_dev",
    "training_label",
]

DEFAULT_DATA_DIR = Path("../shared/data")
_HOLDOUT_SHARE = 5  # one group in five


@dataclass(frozen=True, slots=True)
class DevItem:
    """One labelled prompt of the development corpus."""

    text: str
    label: str  # "benign" or an attack category
    lang: str
    source: str
    train_ok: bool
    group: str

    @property
    def attack(self) -> bool:
        """Whether the item is an attack."""
        return self.label != "benign"


def is_dev_holdout(group: str) -> bool:
    """Whether a group belongs to the dev hold-out (fixed before any tuning)."""
    return zlib.crc32(f"holdout:{group}".encode()) % _HOLDOUT_SHARE == 0


def training_label(category: str, attack: bool) -> str:
    """The classifier's label: benign or one of the three attack categories."""
    if not attack:
        return "benign"
    return category if category in {"role_manipulation", "system_query"} else "injection_attempt"


def load_dev(data_dir: Path = DEFAULT_DATA_DIR) -> list[DevItem]:
    """Every item of ``injection-dev.jsonl`` in ``data_dir``."""
    path = data_dir / "injection-dev.jsonl"
    if not path.is_file():
        raise InvalidInput(f"{path} not found (pass --data DIR with injection-dev.jsonl)")
    items = []
    # Split on newlines only: texts may hold U+2028 and other breaks splitlines() honours.
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        row = json.loads(line)
        attack = int(row["label"]) == 1
        items.append(
            DevItem(
                text=str(row["text"]),
                label=training_label(str(row.get("category", "")), attack),
                lang=str(row.get("lang") or "und"),
                source=str(row.get("source", "")).split(":")[0],
                train_ok=bool(row.get("train_ok")),
                group=str(row.get("group") or row["id"]),
            )
        )
    return items


def chat_turns(data_dir: Path = DEFAULT_DATA_DIR) -> list[str]:
    """The text of every turn of every session in ``locomo-dev.json`` (benign chat)."""
    path = data_dir / "locomo-dev.json"
    if not path.is_file():
        raise InvalidInput(f"{path} not found (pass --data DIR with locomo-dev.json)")
    samples = json.loads(path.read_text(encoding="utf-8"))
    turns: list[str] = []
    for sample in samples:
        conversation = sample["conversation"]
        for key, value in conversation.items():
            if key.startswith("session_") and isinstance(value, list):
                turns.extend(str(turn["text"]) for turn in value if turn.get("text"))
    return turns
