"""``companion keys create|list|revoke|rotate`` and ``companion token issue``.

Secrets are printed once, as the last line, by ``create`` and ``rotate``; ``list``
never shows them.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Annotated, Any

import typer

from companion.cli._common import fail, load, run

__all__ = ["app", "parse_duration", "token_app"]

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
token_app = typer.Typer(help="Mint JSON Web Tokens (JWT_SECRET_KEY must be set).")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``1h``, ``7d`` (or bare seconds) → a ``timedelta``."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text.lower())
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration like 90s, 15m, 1h or 7d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2) or "s"])


async def _with_session(work: Any) -> Any:
    from companion.runtime import Runtime

    runtime = await Runtime.start(load(log_format="text"))
    try:
        async with runtime.db.transaction() as session:
            return await work(session)
    finally:
        await runtime.close()


@app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", help="The user the key acts as.")],
    admin: Annotated[bool, typer.Option("--admin", help="Grant admin rights.")] = False,
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
) -> None:
    """Create an API key (stored hashed; shown only now)."""
    from companion.store.repositories import api_keys, users

    async def work(session: Any) -> str:
        await users.ensure_user(session, user_id=user)
        _, secret = await api_keys.create_api_key(session, user_id=user, is_admin=admin, name=name)
        return secret

    secret = run(lambda: _with_session(work))
    role = "admin" if admin else "user"
    typer.echo(f"created {role} API key for {user} (store it now; it is not shown again):")
    typer.echo(secret)


@app.command("list")
def list_keys(
    user: Annotated[str, typer.Option("--user", help="Whose keys.")],
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list of objects.")] = False,
) -> None:
    """The user's keys: id, created, last used, admin, status (never the secret)."""
    from companion.store.repositories import api_keys

    async def work(session: Any) -> list[dict[str, object]]:
        rows = await api_keys.list_api_keys(session, user_id=user)
        return [api_keys.key_view(row) for row in rows]

    views: list[dict[str, object]] = run(lambda: _with_session(work))
    if as_json:
        typer.echo(json.dumps(views, indent=2))
        return
    if not views:
        typer.echo(f"no API keys for {user}")
        return
    typer.echo(f"{'id':>6}  {'prefix':12} {'role':6} {'status':9} {'created':25} last used")
    for v in views:
        role = "admin" if v["admin"] else "user"
        typer.echo(
            f"{v['id']:>6}  {v['prefix']!s:12} {role:6} {v['status']!s:9} "
            f"{v['created_at']!s:25} {v['last_used_at'] or 'never'}"
        )


@app.command("revoke")
def revoke(key_id: Annotated[int, typer.Argument(help="The key id (see `keys list`).")]) -> None:
    """Revoke a key: every process refuses it (401) from its next request."""
    from companion.store.repositories import api_keys

    async def work(session: Any) -> str:
        row = await api_keys.revoke_api_key(session, user_id=None, key_id=key_id)
        return row.user_id

    owner = run(lambda: _with_session(work))
    typer.echo(f"revoked API key {key_id} of {owner}")


@app.command("rotate")
def rotate(
    key_id: Annotated[int, typer.Argument(help="The key id to replace.")],
    grace: Annotated[
        str, typer.Option(help="How long the old key keeps working (e.g. 1h, 15m, 0s).")
    ] = "1h",
) -> None:
    """Create a replacement key; the old one stops working after the grace period."""
    from companion.store.repositories import api_keys

    period = parse_duration(grace)

    async def work(session: Any) -> tuple[int, str]:
        row, secret = await api_keys.rotate_api_key(
            session, user_id=None, key_id=key_id, grace=period
        )
        return row.id, secret

    new_id, secret = run(lambda: _with_session(work))
    typer.echo(f"API key {key_id} is replaced by key {new_id}; the old key works for {grace}.")
    typer.echo("The new key (store it now; it is not shown again):")
    typer.echo(secret)


@token_app.command("issue")
def issue(
    user: Annotated[str, typer.Option("--user", help="The token's subject (user id).")],
    ttl: Annotated[str, typer.Option(help="Lifetime, e.g. 15m, 1h, 7d.")] = "1h",
    admin: Annotated[bool, typer.Option("--admin", help="Include the admin claim.")] = False,
) -> None:
    """Print a signed JWT for ``--user`` (HS256 with JWT_SECRET_KEY)."""
    from companion.api.jwt import issue_token
    from companion.errors import CompanionError

    settings = load(log_format="text")
    lifetime = parse_duration(ttl)
    if lifetime <= timedelta(0):
        fail("--ttl must be positive", code=2)
    try:
        token = issue_token(settings, user_id=user, is_admin=admin, ttl=lifetime)
    except CompanionError as exc:
        fail(str(exc), code=2)
        return
    typer.echo(token)
