"""Run a ``companion`` command under cProfile, timed by this process's CPU clock.

Run: ``python -m companion.bench.profiled OUT.pstats serve --port 8000``. Profiling starts
on SIGUSR1 (so start-up and warm-up stay out of it) and the profile is written when
the command returns (``serve`` returns on SIGTERM). CPU time, not wall
time, so what it shows does not depend on how busy the machine is; the gateway
benchmark uses it with ``--profile``. Read it with ``python -m pstats OUT.pstats``.
"""

from __future__ import annotations

import cProfile
import signal
import sys
import time


def main() -> None:
    out, argv = sys.argv[1], sys.argv[2:]
    from companion.cli.main import main as companion

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
