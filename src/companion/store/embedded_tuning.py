"""Server settings for the embedded PostgreSQL, sized for the machine it runs on.

initdb's defaults (128 MB of shared buffers, 4 MB of work memory, JIT on) suit a
laptop sharing its memory with everything else. Memory search at scale wants the
memories' vectors and the HNSW graph in shared buffers (pages read from outside them
cost ~10 µs each, and one HNSW search visits thousands), and the planner told that
the OS caches the rest. JIT compilation (tens of ms) never pays off on these short
queries. The settings live in ``companion.conf`` inside the data directory, included
from ``postgresql.conf``, and are rewritten before every start, so a larger machine
gets larger buffers at its next start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["CONF_NAME", "machine_memory", "server_settings", "write_settings"]

CONF_NAME = "companion.conf"
_INCLUDE = f"include_if_exists = '{CONF_NAME}'"
_MB = 1024 * 1024


def machine_memory() -> int:
    """Physical memory in bytes (1 GiB if the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 1024 * _MB


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def server_settings(memory_bytes: int, *, autoprewarm: bool = False) -> dict[str, str]:
    """The settings for a machine with ``memory_bytes`` of RAM (pure).

    ``autoprewarm`` (when the server has ``pg_prewarm``): the list of pages in shared
    buffers is saved at shutdown and read back at start, so a restart does not empty
    them; a big user's HNSW walk reads ~8,700 pages from outside them when they are
    cold, ~80 when the graph is in (1M-row benchmark).

    Shared buffers take a quarter of it (PostgreSQL's usual advice), between 128 MB
    and 8 GB: 1M memories of 384 dimensions are ~2 GB of rows and ~2 GB of HNSW graph,
    and a big user's search reads pages of both (the graph, and the rows its filter
    checks); with an eighth (3 GB on 24 GB) they did not fit together. Shared memory is
    touched lazily, so an idle server does not occupy it.
    """
    mb = memory_bytes // _MB
    preload = {"shared_preload_libraries": "pg_prewarm", "pg_prewarm.autoprewarm": "on"}
    return (preload if autoprewarm else {}) | {
        "shared_buffers": f"{_clamp(mb // 4, 128, 8192)}MB",
        "effective_cache_size": f"{_clamp(mb // 2, 512, 65536)}MB",
        "work_mem": "16MB",
        "maintenance_work_mem": f"{_clamp(mb // 16, 64, 2048)}MB",
        "random_page_cost": "1.1",
        "jit": "off",
        "max_wal_size": "4GB",
    }


def _render(settings: Mapping[str, str]) -> str:
    lines = ["# Written by companion at each start (companion.store.embedded_tuning)."]
    lines += [f"{name} = '{value}'" for name, value in sorted(settings.items())]
    return "\n".join(lines) + "\n"


def write_settings(pgdata: Path, settings: Mapping[str, str]) -> bool:
    """Write ``companion.conf`` and include it from ``postgresql.conf``; True if changed.

    Files keep the owner of ``postgresql.conf`` (the wheel runs the server as its own
    system user when we are root).
    """
    main = pgdata / "postgresql.conf"
    if not main.exists():
        return False
    conf = pgdata / CONF_NAME
    wanted = _render(settings)
    changed = not conf.exists() or conf.read_text() != wanted
    if changed:
        conf.write_text(wanted)
    text = main.read_text()
    if _INCLUDE not in text:
        main.write_text(text.rstrip("\n") + f"\n{_INCLUDE}\n")
        changed = True
    stat = main.stat()
    if os.geteuid() == 0:
        os.chown(conf, stat.st_uid, stat.st_gid)
    conf.chmod(0o640)
    return changed
