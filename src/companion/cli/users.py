"""``companion users delete U --yes``: delete an account and everything it owns."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from companion.cli._common import fail, load, run

__all__ = ["app"]

app = typer.Typer(help="Manage users.", no_args_is_help=True)


@app.command("delete")
def delete(
    user: Annotated[str, typer.Argument(help="The user id to delete.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: delete the user and all their data.")
    ] = False,
) -> None:
    """Delete USER and all their data in one transaction (cannot be undone).

    Without ``--yes`` nothing is deleted (exit 1). Prints what was removed as JSON.
    """
    if not yes:
        fail(f"this deletes {user!r} and all their data for good; add --yes to confirm")
    from companion.store.accounts import delete_account
    from companion.store.database import Database
    from companion.store.kv import create_store
    from companion.store.migrate import upgrade
    from companion.tools.build import account_folders

    settings = load(log_format="text")

    async def _go() -> dict[str, int]:
        db = Database.from_settings(settings, pool=False)
        kv = create_store(settings.db.redis_url, prefix=settings.db.redis_key_prefix)
        try:
            await db.check()
            await upgrade(
                db.engine.url.render_as_string(hide_password=False),
                vector_dimensions=settings.llm.vector_dimensions,
            )
            folders = account_folders(settings, user)
            return await delete_account(db, kv, user_id=user, folders=folders)
        finally:
            await kv.close()
            await db.close()

    removed = run(_go)
    typer.echo(json.dumps({"deleted": True, "user_id": user, "removed": removed}, indent=2))
