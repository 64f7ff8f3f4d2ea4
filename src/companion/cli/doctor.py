"""``companion doctor``: versions of everything, non-zero exit if something required fails."""

from __future__ import annotations

import platform
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from companion import __version__
from companion.cli._common import load
from companion.errors import CompanionError

__all__ = ["doctor"]


def doctor(
    production: Annotated[
        bool,
        typer.Option("--production", help="Also check TLS, auth, secrets, keys, CORS and backups."),
    ] = False,
) -> None:
    """Check PostgreSQL, pgvector, Redis and the models; exit 1 if a required part fails."""
    import asyncio

    settings = load(log_format="text")
    ready = _production(settings) if production else True
    rows, ok = asyncio.run(_collect(settings))
    table = Table(title=f"Companion {__version__} on Python {platform.python_version()}")
    for column in ("component", "status", "details"):
        table.add_column(column)
    for name, status, details in rows:
        colour = {"ok": "green", "FAIL": "red"}.get(status, "yellow")
        table.add_row(name, f"[{colour}]{status}[/{colour}]", details)
    Console(width=120).print(table)
    if not ok or not ready:
        raise SystemExit(1)


def _production(settings: Any) -> bool:
    """One line per check, ``ok`` or ``fail``; whether all passed."""
    from companion.ops import production_checks

    checks = production_checks(settings)
    for check in checks:
        print(f"{'ok' if check.ok else 'fail':4}  {check.name}: {check.detail}")
    failed = [c for c in checks if not c.ok]
    print(f"production readiness: {len(checks) - len(failed)}/{len(checks)} ok", flush=True)
    return not failed


async def _collect(settings: Any) -> tuple[list[tuple[str, str, str]], bool]:
    from companion.store.database import Database
    from companion.store.kv import create_store

    rows: list[tuple[str, str, str]] = []
    ok = True
    db = None
    try:
        db = Database.from_settings(settings, pool=False)
        info = await db.check()
        kind = "embedded" if info.embedded else "external"
        rows.append(("postgresql", "ok", f"{info.server_version} ({kind}) {db.url}"))
        rows.append(("pgvector", "ok", info.pgvector_version or "?"))
    except CompanionError as exc:
        ok = False
        rows.append(("postgresql", "FAIL", str(exc)))
    finally:
        if db is not None:
            await db.close()
    if settings.db.redis_url:
        kv = create_store(settings.db.redis_url)
        try:
            version = await kv.server_version()  # type: ignore[union-attr]
            rows.append(("redis", "ok", f"{version} {settings.db.redis_url.split('@')[-1]}"))
        except Exception as exc:
            rows.append(("redis", "warn", f"unreachable ({exc}); in-process fallback will be used"))
        finally:
            await kv.close()
    else:
        rows.append(("redis", "off", "REDIS_URL unset; in-process caches and locks"))
    for name, status, details in _model_rows(settings):
        ok = ok and status != "FAIL"
        rows.append((name, status, details))
    from companion.tools.build import doctor_rows

    rows.extend(doctor_rows(settings))
    rows.append(_telegram_row(settings))
    return rows, ok


def _telegram_row(settings: Any) -> tuple[str, str, str]:
    """How the Telegram bot would run (no call to Telegram: the token stays unused)."""
    channels = settings.channels
    if not channels.telegram_bot_token:
        return ("telegram", "off", "TELEGRAM_BOT_TOKEN unset")
    how = f"webhook {channels.telegram_webhook_url}" if channels.telegram_webhook_url else "polling"
    mode = "public" if channels.telegram_public else "admins only"
    admins = len(channels.telegram_admin_ids)
    return ("telegram", "ok", f"{how} via {channels.telegram_api_url}, {mode}, {admins} admin(s)")


def _model_rows(settings: Any) -> list[tuple[str, str, str]]:
    try:
        from companion.llm import describe_configuration
    except ImportError:
        return [("models", "off", "model providers not installed")]
    return describe_configuration(settings)
