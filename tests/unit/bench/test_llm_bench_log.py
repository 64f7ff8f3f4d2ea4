"""The llm bench reads each reply call's reuse from the server's JSON log lines."""

from __future__ import annotations

import json
from pathlib import Path

from companion.bench.llm import model_calls, read_aheads


def test_only_reply_calls_are_read_in_order(tmp_path: Path) -> None:
    lines = [
        {"message": "local model call", "cache_prefix": 3, "read_tokens": 120},
        "not json at all",
        {"message": "request", "status": 200},
        {"message": "local model call", "cache_prefix": 0, "read_tokens": 40},  # a judge call
        {"message": "local model call", "cache_prefix": 5, "read_tokens": 230},
    ]
    log = _write(tmp_path, lines)
    assert [c["read_tokens"] for c in model_calls(log)] == [120, 230]


def test_read_aheads_are_those_after_the_warm_up_calls(tmp_path: Path) -> None:
    lines = [
        {"message": "local model call", "cache_prefix": 3},
        {"message": "local model read-ahead", "stopped": False, "targets_done": 1},
        {"message": "local model call", "cache_prefix": 0},  # a judge call does not count
        {"message": "local model call", "cache_prefix": 5},
        {"message": "local model read-ahead", "stopped": True, "targets_done": 0},
        {"message": "local model read-ahead", "stopped": False, "targets_done": 2},
    ]
    log = _write(tmp_path, lines)
    assert [a["targets_done"] for a in read_aheads(log, after_calls=1)] == [0, 2]
    assert len(read_aheads(log, after_calls=0)) == 3
    assert model_calls(log) == [lines[0], lines[3]]  # read-ahead lines are not calls


def _write(folder: Path, lines: list[object]) -> Path:
    log = folder / "serve.log"
    log.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines))
    return log
