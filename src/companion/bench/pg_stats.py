"""What PostgreSQL did during a bench window, per turn: writes, WAL, buffers, statements.

CPU seconds say how much the server worked; these counters say on what. They come from
PostgreSQL's cumulative statistics (``pg_stat_database``, ``pg_stat_wal``,
``pg_stat_user_tables``, ``pg_statio_user_indexes``) and, when the server preloads it,
``pg_stat_statements``; none of them depends on the machine's load, so a change that
writes fewer index entries or less WAL per turn shows here even on a busy machine.

- **Rows written** per table, and how many updates were HOT (heap-only: the new row
  version stays on its page and no index gets an entry). A non-HOT update of a memory
  writes a new entry into every index of ``memories``, the HNSW graph among them.
- **Index entries written** per table: inserts plus non-HOT updates, times the table's
  indexes (partial indexes counted as if their predicate held: an upper bound).
- **WAL**: records, full-page images and bytes.
- **Buffers**: pages found in shared buffers or read, in total and per index (an HNSW
  insert or search shows as the pages of the graph it touched).
- **Statements** (``pg_stat_statements``): calls, execution and planning time and WAL
  bytes per turn, the costliest first.

Backends report their counters when a transaction ends, at most once a second (idle
ones within about ten), so a window of 20 s is off by about a second's worth at either
end; ``pg_stat_statements`` counts each statement as it ends.

CPU by process role (``cpu_by_role``): client backends, the background processes
(autovacuum, WAL writer, checkpointer, I/O workers …) and the processes that exited
during the window (their CPU moves into the postmaster's "children" times when it reaps
them: a short-lived autovacuum worker is counted there).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["PRELOAD_LINE", "cpu_by_role", "enable_statement_stats", "per_turn", "snapshot"]

#: Loads pg_stat_statements beside pg_prewarm (``postgresql.auto.conf`` is read after
#: ``companion.conf`` and wins); for a bench's own server only.
PRELOAD_LINE = (
    "shared_preload_libraries = 'pg_prewarm,pg_stat_statements'\n"
    "pg_stat_statements.track_planning = on\n"
)

#: The counters every server has (pg_stat_statements is named only where it is loaded:
#: a statement naming a missing view fails when parsed, whatever a CASE says).
_COUNTERS = """
  'db', (SELECT row_to_json(d) FROM (
      SELECT xact_commit, xact_rollback, blks_read, blks_hit, tup_inserted, tup_updated,
             tup_deleted, tup_returned, tup_fetched, temp_bytes
      FROM pg_stat_database WHERE datname = current_database()) d),
  'wal', (SELECT row_to_json(w) FROM (
      SELECT wal_records, wal_fpi, wal_bytes::bigint AS wal_bytes FROM pg_stat_wal) w),
  'tables', (SELECT json_object_agg(t.relname, json_build_object(
      'ins', t.n_tup_ins, 'upd', t.n_tup_upd, 'hot', t.n_tup_hot_upd, 'del', t.n_tup_del,
      'indexes', (SELECT count(*) FROM pg_index i WHERE i.indrelid = t.relid),
      'vacuums', t.autovacuum_count + t.vacuum_count,
      'analyzes', t.autoanalyze_count + t.analyze_count,
      'blks', coalesce(io.heap_blks_hit, 0) + coalesce(io.heap_blks_read, 0)
              + coalesce(io.toast_blks_hit, 0) + coalesce(io.toast_blks_read, 0)))
      FROM pg_stat_user_tables t JOIN pg_statio_user_tables io USING (relid)),
  'indexes', (SELECT json_object_agg(s.indexrelname, json_build_object(
      'blks', io.idx_blks_hit + io.idx_blks_read, 'scans', s.idx_scan))
      FROM pg_stat_user_indexes s JOIN pg_statio_user_indexes io USING (indexrelid))"""
_SNAPSHOT = f"""
SELECT json_build_object({_COUNTERS},
  'statements', CASE WHEN to_regclass('pg_stat_statements') IS NOT NULL THEN (
      SELECT json_object_agg(queryid::text, json_build_object(
          'query', left(regexp_replace(query, '\\s+', ' ', 'g'), 160), 'calls', calls,
          'plans', plans,
          'exec_ms', total_exec_time, 'plan_ms', total_plan_time, 'rows', rows,
          'blks', shared_blks_hit + shared_blks_read, 'dirtied', shared_blks_dirtied,
          'wal_bytes', wal_bytes::bigint))
      FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND toplevel) END)
"""


async def snapshot(conn: AsyncConnection, *, statements: bool = True) -> dict[str, Any]:
    """The server's cumulative counters now (see the module); ``statements=False`` on a
    server without pg_stat_statements loaded."""
    query = _SNAPSHOT if statements else f"SELECT json_build_object({_COUNTERS})"
    value = (await conn.execute(text(query))).scalar_one()
    return value if isinstance(value, dict) else dict(json.loads(value))


def _delta(after: dict[str, Any], before: dict[str, Any] | None) -> dict[str, float]:
    before = before or {}
    return {
        k: float(v) - float(before.get(k) or 0)
        for k, v in after.items()
        if isinstance(v, int | float)
    }


def per_turn(
    before: dict[str, Any], after: dict[str, Any], turns: int, *, top: int = 25
) -> dict[str, Any]:
    """What happened between two snapshots, divided by ``turns`` (pure)."""
    n = max(1, turns)
    db = _delta(after["db"], before["db"])
    wal = _delta(after["wal"], before["wal"])
    tables: dict[str, dict[str, float]] = {}
    entries = 0.0
    for name, now in (after.get("tables") or {}).items():
        d = _delta(now, (before.get("tables") or {}).get(name))
        written = d["ins"] + d["upd"] + d["del"]
        if written <= 0 and d["vacuums"] <= 0:
            continue
        index_entries = (d["ins"] + d["upd"] - d["hot"]) * now["indexes"]
        entries += index_entries
        tables[name] = {
            "inserted": round(d["ins"] / n, 2),
            "updated": round(d["upd"] / n, 2),
            "hot_share": round(d["hot"] / d["upd"], 2) if d["upd"] else None,  # type: ignore[dict-item]
            "deleted": round(d["del"] / n, 2),
            "index_entries": round(index_entries / n, 2),
            "pages": round(d["blks"] / n, 1),
            "vacuums": d["vacuums"],
            "analyzes": d["analyzes"],
        }
    indexes = {
        name: round(d["blks"] / n, 1)
        for name, now in (after.get("indexes") or {}).items()
        if (d := _delta(now, (before.get("indexes") or {}).get(name)))["blks"] > 0
    }
    return {
        "commits": round(db["xact_commit"] / n, 2),
        "rows_inserted_updated_deleted": [
            round(db[k] / n, 2) for k in ("tup_inserted", "tup_updated", "tup_deleted")
        ],
        "index_entries": round(entries / n, 1),
        "wal": {
            "records": round(wal["wal_records"] / n, 1),
            "full_page_images": round(wal["wal_fpi"] / n, 2),
            "bytes": round(wal["wal_bytes"] / n),
        },
        "buffers": {
            "pages": round((db["blks_hit"] + db["blks_read"]) / n, 1),
            "read": round(db["blks_read"] / n, 2),
        },
        "tables": dict(sorted(tables.items(), key=lambda kv: -kv[1]["index_entries"])),
        "index_pages": dict(sorted(indexes.items(), key=lambda kv: -kv[1])),
        "statements": _statements(before, after, n, top) if after.get("statements") else None,
    }


def _statements(
    before: dict[str, Any], after: dict[str, Any], n: int, top: int
) -> list[dict[str, Any]]:
    rows = []
    for key, now in after["statements"].items():
        d = _delta(now, (before.get("statements") or {}).get(key))
        if d["calls"] <= 0:
            continue
        rows.append(
            {
                "calls": round(d["calls"] / n, 2),
                # Share of executions planned anew (a prepared statement on its generic
                # plan is not): PostgreSQL plans the first five of each connection.
                "planned": round(d["plans"] / d["calls"], 2),
                "exec_ms": round(d["exec_ms"] / n, 3),
                "plan_ms": round(d["plan_ms"] / n, 3),
                "rows": round(d["rows"] / n, 1),
                "pages": round(d["blks"] / n, 1),
                "dirtied": round(d["dirtied"] / n, 2),
                "wal_bytes": round(d["wal_bytes"] / n),
                "query": now["query"],
            }
        )
    rows.sort(key=lambda r: -(r["exec_ms"] + r["plan_ms"]))
    total = {
        "calls": round(sum(r["calls"] for r in rows), 1),
        "exec_ms": round(sum(r["exec_ms"] for r in rows), 2),
        "plan_ms": round(sum(r["plan_ms"] for r in rows), 2),
    }
    return [{"all": total}, *rows[:top]]


def enable_statement_stats(pgdata: Path) -> None:
    """Preload ``pg_stat_statements`` at the server's next start (a bench's own server).

    Written to ``postgresql.auto.conf`` (what ``ALTER SYSTEM`` writes), which PostgreSQL
    reads last; the extension itself is created by the bench once the server runs.
    """
    auto = pgdata / "postgresql.auto.conf"
    text_ = auto.read_text() if auto.exists() else ""
    if PRELOAD_LINE not in text_:
        auto.write_text(text_ + PRELOAD_LINE)


def cpu_by_role(home: Path) -> dict[str, float]:
    """CPU seconds so far of the PostgreSQL running on ``home``, by process role.

    ``backends`` are the client connections; ``exited`` is what the postmaster's
    children used before they exited (autovacuum workers come and go); the others are
    the background processes by the name PostgreSQL gives them.
    """
    roles: dict[str, float] = {}
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            if "-D" in cmdline and str(home) in cmdline and "postgres" in cmdline:
                times = proc.cpu_times()
                roles["postmaster"] = times.user + times.system
                roles["exited"] = times.children_user + times.children_system
                for child in proc.children():
                    role = _role(" ".join(child.cmdline()))
                    t = child.cpu_times()
                    roles[role] = roles.get(role, 0.0) + t.user + t.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return roles


def _role(cmdline: str) -> str:
    """``postgres: checkpointer`` → ``checkpointer``; a client backend → ``backends``."""
    name = cmdline.removeprefix("postgres:").strip()
    for role in (
        "autovacuum",
        "autoprewarm",
        "walwriter",
        "checkpointer",
        "background writer",
        "io worker",
        "logical replication",
        "walsummarizer",
    ):
        if name.startswith(role):
            return role
    return "backends"
