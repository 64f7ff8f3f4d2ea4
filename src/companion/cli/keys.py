"""``companion keys create --user U [--admin]``: the new key is the last line printed."""

from __future__ import annotations

from typing import Annotated

import typer

from companion.cli._common import load, run

__all__ = ["app"]

app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


@app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", help="The user the key acts as.")],
    admin: Annotated[bool, typer.Option("--admin", help="Grant admin rights.")] = False,
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
) -> None:
    """Create an API key (stored hashed; shown only now)."""
    from companion.runtime import Runtime
    from companion.store.repositories import api_keys, users

    settings = load(log_format="text")

    async def _go() -> str:
        runtime = await Runtime.start(settings)
        try:
            async with runtime.db.transaction() as session:
                await users.ensure_user(session, user_id=user)
                _, secret = await api_keys.create_api_key(
                    session, user_id=user, is_admin=admin, name=name
                )
        finally:
            await runtime.close()
        return secret

    secret = run(_go)
    role = "admin" if admin else "user"
    typer.echo(f"created {role} API key for {user} (store it now; it is not shown again):")
    typer.echo(secret)
