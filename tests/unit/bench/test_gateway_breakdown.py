"""The gateway bench's breakdown of the slowest turns by Server-Timing entry."""

from __future__ import annotations

from companion.bench.gateway import _timings, breakdown


def test_server_timing_entries_are_read_by_name() -> None:
    header = "turn;dur=12, model;dur=2.5, overhead;dur=9.5, read;dur=1.2, memory_work;dur=3"
    assert _timings(header) == {
        "turn": 12.0, "model": 2.5, "overhead": 9.5, "read": 1.2, "memory_work": 3.0
    }  # fmt: skip
    assert _timings("") == {}


def test_the_slowest_turns_by_overhead_beside_all_turns() -> None:
    turns = [{"overhead": float(n), "lag": 0.0} for n in range(1, 40)]
    turns.append({"overhead": 100.0, "lag": 80.0, "gc": 15.0})
    result = breakdown(turns, share=0.05)
    assert result["turns"] == 2  # 5 % of 40
    assert result["slowest"] == {"overhead": 69.5, "lag": 40.0, "gc": 7.5}
    assert result["all"]["overhead"] == round((sum(range(1, 40)) + 100) / 40, 1)
    assert result["all"]["gc"] == 0.4
