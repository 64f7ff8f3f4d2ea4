"""The per-turn reading of PostgreSQL's counters (companion.bench.pg_stats)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from companion.bench.pg_stats import PRELOAD_LINE, enable_statement_stats, per_turn


def _snap(*, ins: int, upd: int, hot: int, wal: int, calls: int, plans: int) -> dict[str, Any]:
    return {
        "db": {"xact_commit": 10, "blks_read": 0, "blks_hit": 100, "tup_inserted": ins,
               "tup_updated": upd, "tup_deleted": 0},
        "wal": {"wal_records": 5, "wal_fpi": 0, "wal_bytes": wal},
        "tables": {"memories": {"ins": ins, "upd": upd, "hot": hot, "del": 0, "indexes": 8,
                                "vacuums": 0, "analyzes": 0, "blks": 40}},
        "indexes": {"ix_memories_embedding_hnsw": {"blks": 30, "scans": 0}},
        "statements": {"1": {"query": "UPDATE memories", "calls": calls, "plans": plans,
                             "exec_ms": 2.0 * calls, "plan_ms": 1.0 * plans, "rows": calls,
                             "blks": 10, "dirtied": 0, "wal_bytes": 0}},
    }  # fmt: skip


def test_non_hot_updates_count_an_entry_in_every_index() -> None:
    before = _snap(ins=0, upd=0, hot=0, wal=0, calls=0, plans=0)
    after = _snap(ins=2, upd=10, hot=8, wal=4000, calls=4, plans=2)
    result = per_turn(before, after, turns=2)
    memories = result["tables"]["memories"]
    # (2 inserts + 2 non-HOT updates) × 8 indexes, over 2 turns
    assert memories["index_entries"] == 16.0 and result["index_entries"] == 16.0
    assert memories["hot_share"] == 0.8
    assert result["wal"]["bytes"] == 2000
    everything, statement = result["statements"][:2]
    assert everything["all"]["calls"] == 2.0
    assert statement["planned"] == 0.5 and statement["plan_ms"] == 1.0


def test_statement_stats_are_preloaded_once(tmp_path: Path) -> None:
    (tmp_path / "postgresql.auto.conf").write_text("# kept\n")
    enable_statement_stats(tmp_path)
    enable_statement_stats(tmp_path)
    text = (tmp_path / "postgresql.auto.conf").read_text()
    assert text == "# kept\n" + PRELOAD_LINE
