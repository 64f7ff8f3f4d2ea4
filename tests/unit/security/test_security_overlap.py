"""Our training text may not share six consecutive words with the dev corpus."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from typer.testing import CliRunner

from companion.cli.main import app
from companion.security.corpus import TRAINING_FILES, written_lines
from companion.security.overlap import OwnLine, find_overlaps, runs


def test_runs_are_lowercased_word_windows_ignoring_punctuation() -> None:
    assert runs("The Kettle, it whistles: twice at noon!", 6) == [
        "the kettle it whistles twice at",
        "kettle it whistles twice at noon",
    ]
    assert runs("five words are not enough") == []


def test_a_shared_six_word_run_names_file_line_and_words() -> None:
    own = [
        OwnLine("mine.txt", 3, "Please water the basil on the balcony before lunch."),
        OwnLine("mine.txt", 4, "The basil on the windowsill wants sun."),
    ]
    dev = ["Someone said: water the BASIL on the balcony, thanks."]
    found = find_overlaps(own, dev)
    assert [(o.file, o.line, o.words) for o in found] == [
        ("mine.txt", 3, "water the basil on the balcony")
    ]
    assert 'mine.txt:3: shares "water the basil on the balcony"' in str(found[0])


def test_five_shared_words_are_allowed_and_long_stretches_are_reported_once() -> None:
    own = [
        OwnLine("a.jsonl", 1, "the red kite circles over the hill"),
        OwnLine("a.jsonl", 2, "a b c d e f g h and then something else"),
    ]
    dev = ["we saw the red kite circles today", "x a b c d e f g h y"]
    found = find_overlaps(own, dev)
    assert [(o.line, o.words) for o in found] == [(2, "a b c d e f g h")]


def test_written_lines_cover_the_grammar_and_every_training_file() -> None:
    lines = written_lines()
    files = {line.file for line in lines}
    assert files == {"grammar.txt", *TRAINING_FILES}
    data = resources.files("companion.security.data")
    for line in lines[:: max(1, len(lines) // 50)]:
        raw = data.joinpath(line.file).read_text("utf-8").split("\n")[line.line - 1]
        text = raw.strip() if line.file == "grammar.txt" else json.loads(raw)["text"]
        assert text == line.text


def _dev_file(folder: Path, texts: list[str]) -> None:
    rows = [
        {"id": f"t{i}", "text": t, "label": 1, "category": "", "lang": "en", "train_ok": True}
        for i, t in enumerate(texts)
    ]
    (folder / "injection-dev.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def test_train_refuses_when_a_written_line_repeats_dev_wording(tmp_path: Path) -> None:
    mine = next(line for line in written_lines() if line.file == "written_v1.jsonl")
    _dev_file(tmp_path, [f"Some preamble. {mine.text} And an ending."])
    out = tmp_path / "model.npz"
    result = CliRunner().invoke(
        app, ["security", "train", "--data", str(tmp_path), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert f"written_v1.jsonl:{mine.line}:" in result.output
    assert " ".join(runs(mine.text, 6)[0].split()[:6]) in result.output
    assert "reword" in result.output
    assert not out.exists()
