"""The watchdog of an embedded server: stops it once no holder process is alive.

Started by ``EmbeddedPostgres.start`` (one per server, in its own session) as
``python -m companion.store.embedded_watchdog COMPANION_HOME``. Every few seconds
(``COMPANION_EMBEDDED_WATCH_SECONDS``, default 2) it prunes dead holders from the
registry; when none is left it stops the server (if the last holder did not) and
exits. While holders are alive it keeps the server up: a server that went away
under them (a crash, the OOM killer, ``pg_ctl stop``) is started again on the same
socket, so their connection pools reconnect.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from companion.store.embedded import ensure_server, server_running, stop_server
from companion.store.holders import HolderRegistry

__all__ = ["main", "watch"]

log = logging.getLogger(__name__)


def watch(home: Path, *, interval: float) -> str:
    """Watch the server under ``home`` until no holder is left; returns why it ended."""
    registry = HolderRegistry(home / "run")
    pgdata = home / "pgdata"
    while True:
        time.sleep(interval)
        with registry.locked():
            if not registry.live():
                registry.clear_watchdog()
                if not server_running(pgdata):
                    return "server already stopped"
                stop_server(pgdata)
                return "no holder left: server stopped"
            if not server_running(pgdata):
                _revive(pgdata)


def _revive(pgdata: Path) -> None:
    """Holders are alive but the server is gone: start it again (next tick retries)."""
    log.warning("the embedded postgres went away under its holders; starting it again")
    try:
        ensure_server(pgdata)
    except Exception:  # e.g. the old server's backends still hold its shared memory
        log.warning("starting the embedded postgres again failed; retrying", exc_info=True)
    else:
        log.warning("the embedded postgres is running again")


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
