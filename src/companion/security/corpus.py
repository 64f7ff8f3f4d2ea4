"""The labelled corpus shipped with the package, and loading datasets for the benchmark.

Every packaged set is written by us and is training data: ``corpus.jsonl`` (the Discord design's
examples plus written ones), ``written_v1/v2/probe.jsonl`` (once called held out, but
looked at while tuning the patterns), ``written_multilingual.jsonl`` (our own
attacks and benign messages in de/fr/es/it/pt, harmless role-play included) and
``written_structured.jsonl`` (benign JSON, code, logs, notices and e-mails that use
attack words harmlessly) and ``written_personas.jsonl`` (harmful personas of theft and
scams with harmless twins opened the same way, French formal-register role-play set-ups
on both sides, clean documents, questions about attacks). Sets we
wrote give no quality figure; honest figures come from public data nobody here wrote
(``devdata.py``, docs/BENCHMARKS.md). Datasets are CSV, JSONL (``#`` lines are
comments) or Parquet (only when pyarrow is installed) with ``text`` and ``label``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from companion.errors import InvalidInput
from companion.security.overlap import OwnLine
from companion.security.patterns import CATEGORIES

__all__ = ["LABELS", "TRAINING_FILES", "Example", "load_dataset", "training", "written_lines"]

LABELS = (*CATEGORIES, "benign")
#: The packaged sets, all written by us, all training data.
TRAINING_FILES = (
    "corpus.jsonl",
    "written_v1.jsonl",
    "written_v2.jsonl",
    "written_probe.jsonl",
    "written_multilingual.jsonl",
    "written_structured.jsonl",
    "written_personas.jsonl",
)
#: Labels other datasets use for "not an attack".
_BENIGN_ALIASES = {"benign", "none", "safe", "0", "false", "clean", "legit", "harmless"}


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message; ``kind`` is the benign sub-kind or ``seed``; ``group`` ties
    translations of one message together (empty when it stands alone)."""

    text: str
    label: str
    kind: str = ""
    group: str = ""
    lang: str = ""


def _normalise_label(raw: object) -> str:
    label = str(raw).strip().lower()
    if label in _BENIGN_ALIASES:
        return "benign"
    if label == "system_extraction":  # the Discord design's name for it
        return "system_query"
    if label in CATEGORIES:
        return label
    # Binary datasets: any other positive label is an attack of unknown category.
    return "attack" if label in {"1", "true", "malicious", "attack", "injection"} else label


def _rows_jsonl(lines: list[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in lines if line.strip() and not line.startswith("#")]


def _to_examples(rows: list[dict[str, object]], source: str) -> list[Example]:
    examples = []
    for number, row in enumerate(rows, start=1):
        if "text" not in row or "label" not in row:
            raise InvalidInput(f"{source}: row {number} needs 'text' and 'label' columns")
        examples.append(
            Example(
                str(row["text"]),
                _normalise_label(row["label"]),
                str(row.get("kind") or ""),
                str(row.get("group") or ""),
                str(row.get("lang") or ""),
            )
        )
    return examples


def _packaged(name: str) -> list[Example]:
    text = resources.files("companion.security.data").joinpath(name).read_text(encoding="utf-8")
    return _to_examples(_rows_jsonl(text.splitlines()), name)


def training(*names: str) -> list[Example]:
    """Our written training sets (all of ``TRAINING_FILES`` unless ``names`` are given)."""
    return [example for name in names or TRAINING_FILES for example in _packaged(name)]


def written_lines(grammar: str = "grammar.txt") -> list[OwnLine]:
    """Every line of text we wrote that training reads: each phrase of the grammar and
    the ``text`` of each row of ``TRAINING_FILES``, with its file and line number."""
    data = resources.files("companion.security.data")
    lines: list[OwnLine] = []
    for number, raw in enumerate(data.joinpath(grammar).read_text("utf-8").split("\n"), 1):
        phrase = raw.strip()
        if phrase and not phrase.startswith(("#", "@")):
            lines.append(OwnLine(grammar, number, phrase))
    for name in TRAINING_FILES:
        for number, raw in enumerate(data.joinpath(name).read_text("utf-8").split("\n"), 1):
            if raw.strip() and not raw.startswith("#"):
                lines.append(OwnLine(name, number, str(json.loads(raw)["text"])))
    return lines


def load_dataset(path: Path) -> list[Example]:
    """Read a CSV, JSONL or Parquet file with ``text`` and ``label`` columns."""
    if not path.is_file():
        raise InvalidInput(f"dataset {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return _to_examples(_rows_jsonl(path.read_text(encoding="utf-8").splitlines()), path.name)
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return _to_examples(list(csv.DictReader(handle)), path.name)
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise InvalidInput("reading Parquet needs pyarrow; convert to CSV or JSONL") from exc
        return _to_examples(pq.read_table(path).to_pylist(), path.name)
    raise InvalidInput(f"dataset {path.name}: use .csv, .jsonl or .parquet")
