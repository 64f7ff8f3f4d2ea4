"""The watchdog of an embedded server: stops it once no holder process is alive.

Started by ``EmbeddedPostgres.start`` (one per server, in its own session) as
``python -m companion.store.embedded_watchdog COMPANION_HOME``. Every few seconds
(``COMPANION_EMBEDDED_WATCH_SECONDS``, default 2) it prunes dead holders from the
registry; when none is left it stops the server and exits. It also exits when the
server was stopped by someone else (the last holder letting go normally).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from companion.store.embedded import server_running, stop_server
from companion.store.holders import HolderRegistry

__all__ = ["main", "watch"]


def watch(home: Path, *, interval: float) -> str:
    """Watch the server under ``home`` until it is stopped; returns why it ended."""
    registry = HolderRegistry(home / "run")
    pgdata = home / "pgdata"
    while True:
        time.sleep(interval)
        with registry.locked():
            if not server_running(pgdata):
                registry.clear_watchdog()
                return "server already stopped"
            if not registry.live():
                stop_server(pgdata)
                registry.clear_watchdog()
                return "no holder left: server stopped"


def main(argv: list[str]) -> int:
    """Entry point: ``argv[1]`` is COMPANION_HOME."""
    if len(argv) != 2:
        print("usage: python -m companion.store.embedded_watchdog COMPANION_HOME", file=sys.stderr)
        return 2
    interval = float(os.environ.get("COMPANION_EMBEDDED_WATCH_SECONDS", "2"))
    watch(Path(argv[1]), interval=max(0.1, interval))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
