"""Code and docs say what they mean in words, not by IDs of documents outside the repo.

References like "(JOB-04)", "DEF-11" or "seed 004" pointed into requirement lists a
newcomer cannot open; decisions worth a record live in docs/DECISIONS.md instead.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
#: A requirement ID ("PRO-12", "PER-08f"), a design section ("DESIGN §6"), a seed number.
DOCUMENT_ID = re.compile(r"\b[A-Z]{2,4}-\d{2}[a-z]?\b|DESIGN §|\b[Ss]eed 00\d\b")
#: Identifiers that look like IDs but are not (UTF-8, ISO dates in text, model names).
ALLOWED = re.compile(r"\b(UTF|ISO|SHA|CP|RFC|PEP|GPT|BGE|E5)-\d{2}", re.IGNORECASE)


def _texts() -> list[Path]:
    paths = [*ROOT.glob("src/companion/**/*.py"), *ROOT.glob("docs/*.md"), ROOT / "README.md"]
    return [p for p in paths if "migrations/versions" not in str(p)]


def test_no_document_ids_in_code_or_docs() -> None:
    found = []
    for path in _texts():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in DOCUMENT_ID.finditer(line):
                if not ALLOWED.match(line, match.start()):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {match.group()}")
    assert not found, "say it in words (or link docs/DECISIONS.md):\n" + "\n".join(found)
