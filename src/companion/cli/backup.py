"""``companion backup --out PATH`` and ``companion restore PATH --yes``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from companion.cli._common import fail, load, run

__all__ = ["backup_command", "restore_command"]


def backup_command(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The backup file (default: BACKUP_DIR/companion-<time>.dump)."),
    ] = None,
) -> None:
    """Dump the whole database (pg_dump, custom format) to one file."""
    from companion.store.backup import backup, default_backup_path

    settings = load(log_format="text")
    if out is None:
        if settings.db.backup_dir is None:
            fail("give --out PATH (or set BACKUP_DIR)", code=2)
            return
        out = default_backup_path(settings.db.backup_dir)
    target = out
    size = run(lambda: backup(settings, target))
    typer.echo(f"backup written: {target} ({size} bytes)")


def restore_command(
    path: Annotated[Path, typer.Argument(help="A file written by `companion backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Overwrite a database that already holds data.")
    ] = False,
) -> None:
    """Replace the database's contents with a backup (stop the app first)."""
    from companion.store.backup import restore

    settings = load(log_format="text")
    run(lambda: restore(settings, path, force=yes))
    typer.echo(f"restored {path}")
