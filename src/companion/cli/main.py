"""The ``companion`` command (Typer). Subcommands live in sibling modules."""

from __future__ import annotations

import sys

import typer

from companion.cli import (
    backup,
    bench,
    chat,
    deliveries,
    discord,
    doctor,
    jobs,
    keys,
    server,
    telegram,
    users,
)
from companion.cli.personality import app as personality_app
from companion.cli.security import app as security_app
from companion.errors import ConfigError

__all__ = ["app", "main"]

app = typer.Typer(
    name="companion",
    help="Companion: a self-hosted AI companion with memory and personality.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(server.serve)
app.command("migrate")(server.migrate)
app.command("doctor")(doctor.doctor)
app.command("discord")(discord.discord)
app.command("telegram")(telegram.telegram)
app.command("chat")(chat.chat)
app.add_typer(keys.app, name="keys")
app.add_typer(keys.token_app, name="token")
app.add_typer(bench.app, name="bench")
app.add_typer(personality_app, name="personality")
app.add_typer(jobs.app, name="jobs")
app.add_typer(users.app, name="users")
app.add_typer(security_app, name="security")
app.add_typer(deliveries.app, name="deliveries")
app.command("worker")(jobs.worker)
app.command("backup")(backup.backup_command)
app.command("restore")(backup.restore_command)

from companion.cli import tools as tools_cli  # noqa: E402

app.add_typer(tools_cli.app, name="tools")

from companion.cli import memory as memory_cli  # noqa: E402  (import, export, reembed)

app.command("import")(memory_cli.import_command)
app.command("export")(memory_cli.export_command)
app.command("reembed")(memory_cli.reembed_command)


def main() -> None:
    """Entry point: a configuration error is one line on stderr and exit code 2."""
    try:
        app()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
