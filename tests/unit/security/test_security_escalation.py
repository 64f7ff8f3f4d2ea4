"""The Discord design's ladder: 3 offences in the window → warning → restriction → suspension."""

from __future__ import annotations

from companion.security import action_for, level_for


def test_levels_follow_the_repeat_offender_threshold() -> None:
    assert [level_for(n) for n in range(1, 8)] == [0, 0, 1, 2, 3, 3, 3]


def test_actions_by_level() -> None:
    assert [action_for(level) for level in range(4)] == ["block", "block", "restrict", "suspended"]
