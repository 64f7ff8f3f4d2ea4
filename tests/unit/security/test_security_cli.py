"""``companion security train`` and ``companion bench security`` refuse a missing data folder."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from companion.cli.main import app


def test_train_names_the_missing_corpus_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "model.npz"
    result = CliRunner().invoke(
        app, ["security", "train", "--data", str(tmp_path), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "injection-dev.jsonl" in result.output
    assert not out.exists()


def test_bench_names_the_missing_corpus(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "security", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "injection-dev.jsonl" in result.output
