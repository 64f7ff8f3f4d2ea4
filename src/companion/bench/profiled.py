"""Run a ``companion`` command under a profiler, timed by this process's CPU clock.

Run: ``python -m companion.bench.profiled OUT serve --port 8000``. Profiling starts on
SIGUSR1 (so start-up and warm-up stay out of it) and the profile is written when the
command returns (``serve`` returns on SIGTERM). The clock is the process's CPU time,
not wall time, so waiting for a core on a busy machine is not counted (CPU used by
other threads, such as the embedder's, lands on whatever the main thread runs
meanwhile). The gateway benchmark uses it with ``--profile``.

``OUT`` ending in ``.folded``: a sampling profile instead, one line per distinct stack
(``file:function;…;file:function samples``, the flame-graph "folded" format), a sample
per millisecond of the process's CPU time. cProfile's cumulative times are unreliable
for this server, whose SQLAlchemy calls switch greenlets mid-call; samples of the
whole stack are not. Otherwise: a cProfile ``pstats`` file (``python -m pstats OUT``).
"""

from __future__ import annotations

import cProfile
import importlib
import os
import signal
import sys
import time
from collections import Counter
from types import FrameType

import greenlet


class _Sampler:
    """Counts the main thread's stack on each SIGPROF (a millisecond of CPU time)."""

    def __init__(self) -> None:
        self.stacks: Counter[str] = Counter()

    def sample(self, signum: int, frame: FrameType | None) -> None:
        names = []
        # SQLAlchemy runs a statement in a greenlet whose own stack starts at the call:
        # the caller's frames are those of the parent greenlet, suspended in the switch.
        runner = greenlet.getcurrent()
        while frame is not None:
            code = frame.f_code
            names.append(f"{os.path.basename(code.co_filename)}:{code.co_name}")
            frame = frame.f_back
            if frame is None and runner.parent is not None:
                runner = runner.parent
                frame = runner.gr_frame
        self.stacks[";".join(reversed(names))] += 1

    def enable(self) -> None:
        signal.signal(signal.SIGPROF, self.sample)
        signal.setitimer(signal.ITIMER_PROF, 0.001, 0.001)

    def disable(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)

    def dump_stats(self, out: str) -> None:
        with open(out, "w", encoding="utf-8") as handle:
            handle.writelines(f"{stack} {n}\n" for stack, n in self.stacks.most_common())


def main() -> None:
    out, argv = sys.argv[1], sys.argv[2:]
    # By name: the CLI imports the benches, so a static import here would be a cycle.
    companion = importlib.import_module("companion.cli.main").main

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    # uvicorn restores this handler after its graceful shutdown and raises the signal
    # again: exit through ``finally`` (which writes the profile), not by the default kill.
    signal.signal(signal.SIGTERM, stop)
    profile: _Sampler | cProfile.Profile = (
        _Sampler() if out.endswith(".folded") else cProfile.Profile(time.process_time)
    )
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
