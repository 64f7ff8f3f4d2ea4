"""Run a ``companion`` command under cProfile, timed by this process's CPU clock.

Run: ``python -m companion.bench.profiled OUT.pstats serve --port 8000``. Profiling starts
on SIGUSR1 (so start-up and warm-up stay out of it) and the profile is written when
the command returns (``serve`` returns on SIGTERM). The clock is the process's CPU
time, not wall time, so waiting for a core on a busy machine is not counted (CPU used
by other threads, such as the embedder's, lands on whatever the main thread runs
meanwhile). The gateway benchmark uses it with ``--profile``; read the result with
``python -m pstats OUT.pstats``.
"""

from __future__ import annotations

import cProfile
import importlib
import signal
import sys
import time


def main() -> None:
    out, argv = sys.argv[1], sys.argv[2:]
    # By name: the CLI imports the benches, so a static import here would be a cycle.
    companion = importlib.import_module("companion.cli.main").main

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    # uvicorn restores this handler after its graceful shutdown and raises the signal
    # again: exit through ``finally`` (which writes the profile), not by the default kill.
    signal.signal(signal.SIGTERM, stop)
    profile = cProfile.Profile(time.process_time)
    signal.signal(signal.SIGUSR1, lambda signum, frame: profile.enable())
    sys.argv = ["companion", *argv]
    try:
        companion()
    except SystemExit:
        pass
    finally:
        profile.disable()
        profile.dump_stats(out)


if __name__ == "__main__":
    main()
