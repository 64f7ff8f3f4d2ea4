"""Which processes hold the embedded PostgreSQL: a registry checked for liveness.

One file per holding process in ``$COMPANION_HOME/run/holders/`` (named by PID,
holding the process's start time, so a reused PID is not mistaken for a holder).
A holder that died without letting go (``kill -9``, a crash, SIGTERM re-raised by
uvicorn) is pruned by whoever looks next: the next process to start or stop, or the
watchdog (``store.embedded_watchdog``) that stops the server once no holder is alive.
Every change happens under one ``flock`` so starting and stopping never interleave.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

__all__ = ["HolderRegistry", "is_alive", "start_time"]


_PROC_STAT = Path("/proc/self/stat").exists()
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if _PROC_STAT else 100


def start_time(pid: int) -> float | None:
    """When process ``pid`` started, in seconds since the machine booted (None: no such
    process).

    Not psutil's ``create_time``: that adds the boot time, which Linux derives from the
    wall clock, so it moves whenever the clock is stepped or slewed (NTP, a virtual
    machine's clock running fast: seen here at 5 ms a second, a whole second every few
    minutes), and a holder alive all along would look like another process that got its
    PID. The kernel's own count of clock ticks since boot never moves.
    """
    if not _PROC_STAT:  # not Linux: the wall-clock start is all there is
        return _wall_clock_start(pid)
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:  # no such process (any more)
        return None
    # After the command's closing parenthesis: field 3 (state) is first, so field 22
    # (starttime, in clock ticks since boot) is the 20th.
    return int(fields[19]) / _CLOCK_TICKS


def _wall_clock_start(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def is_alive(pid: int, started: float | None = None) -> bool:
    """Whether ``pid`` runs (not a zombie) and, if given, started at ``started`` (as
    ``start_time`` gives it)."""
    try:
        if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return False
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False
    if started is None:
        return True
    created = start_time(pid)
    return created is not None and abs(created - started) < 0.05


class HolderRegistry:
    """The holders of the server whose run directory is ``run_dir``."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.dir = run_dir / "holders"
        self._lock_path = run_dir / "holders.lock"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the registry's inter-process lock (blocking)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with self._lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def add(self, pid: int) -> None:
        """Record ``pid`` as a holder (call under ``locked``)."""
        started = start_time(pid)
        if started is not None:
            (self.dir / str(pid)).write_text(f"{started:.3f}\n")

    def remove(self, pid: int) -> None:
        """Forget ``pid`` (call under ``locked``)."""
        (self.dir / str(pid)).unlink(missing_ok=True)

    def live(self) -> list[int]:
        """The holders still running; files of dead ones are removed (under ``locked``)."""
        alive: list[int] = []
        if not self.dir.is_dir():
            return alive
        for entry in self.dir.iterdir():
            try:
                pid, started = int(entry.name), float(entry.read_text().strip() or "nan")
            except (ValueError, OSError):
                entry.unlink(missing_ok=True)
                continue
            if is_alive(pid, started):
                alive.append(pid)
            else:
                entry.unlink(missing_ok=True)
        return sorted(alive)

    # -- the watchdog's own record -------------------------------------------------------

    @property
    def _watchdog_file(self) -> Path:
        return self.run_dir / "watchdog.pid"

    def watchdog_alive(self) -> bool:
        """Whether the recorded watchdog process still runs."""
        try:
            pid_text, started_text = self._watchdog_file.read_text().split()
            return is_alive(int(pid_text), float(started_text))
        except (OSError, ValueError):
            return False

    def set_watchdog(self, pid: int) -> None:
        """Record ``pid`` as the watchdog."""
        started = start_time(pid)
        if started is not None:
            self._watchdog_file.write_text(f"{pid} {started:.3f}\n")

    def clear_watchdog(self) -> None:
        """Forget the watchdog, if it is this process."""
        try:
            pid_text, _ = self._watchdog_file.read_text().split()
        except (OSError, ValueError):
            return
        if int(pid_text) == os.getpid():
            self._watchdog_file.unlink(missing_ok=True)
