"""The embedded server's holder registry: a holder is recognised by its PID and its
start, counted on a clock that moving the wall clock does not move."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from companion.store.holders import HolderRegistry, is_alive, start_time

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def test_a_start_is_counted_from_boot_not_from_the_wall_clock() -> None:
    """A start read off the wall clock moves whenever the clock is slewed or stepped;
    one counted from boot sits between the boot clock's readings around the spawn."""
    before = time.clock_gettime(time.CLOCK_BOOTTIME)
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)  # fmt: skip
    after = time.clock_gettime(time.CLOCK_BOOTTIME)
    try:
        started = start_time(child.pid)
        assert started is not None
        assert before - 0.02 <= started <= after + 0.02  # one clock tick either side
        assert is_alive(child.pid, started)
    finally:
        child.communicate(b"")
    assert start_time(child.pid) is None
    assert not is_alive(child.pid, started)


def test_a_holder_with_another_start_is_a_reused_pid_and_is_pruned(tmp_path: Path) -> None:
    registry = HolderRegistry(tmp_path)
    with registry.locked():
        registry.add(os.getpid())
        assert registry.live() == [os.getpid()]
        own = start_time(os.getpid())
        assert own is not None
        # The same PID recorded with a start a second off: another process had it.
        (tmp_path / "holders" / str(os.getpid())).write_text(f"{own + 1.0:.3f}\n")
        assert registry.live() == []
        assert not (tmp_path / "holders" / str(os.getpid())).exists()
