"""The llm bench reads each reply call's reuse from the server's JSON log lines."""

from __future__ import annotations

import json
from pathlib import Path

from companion.bench.llm import model_calls


def test_only_reply_calls_are_read_in_order(tmp_path: Path) -> None:
    lines = [
        {"message": "local model call", "cache_prefix": 3, "read_tokens": 120},
        "not json at all",
        {"message": "request", "status": 200},
        {"message": "local model call", "cache_prefix": 0, "read_tokens": 40},  # a judge call
        {"message": "local model call", "cache_prefix": 5, "read_tokens": 230},
    ]
    log = tmp_path / "serve.log"
    log.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines))
    assert [c["read_tokens"] for c in model_calls(log)] == [120, 230]
