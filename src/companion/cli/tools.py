"""``companion tools``: run the agent's tools by hand, printing their result as JSON.

``companion tools python --user U --code CODE`` runs code in the sandbox exactly as
``run_python`` does (the user's workspace at /workspace, the same limits) and prints
``ok``, ``stdout``, ``stderr``, ``exit_code``, ``timed_out`` and ``truncated``.
``companion tools search "query"`` prints the five results the agent would see.
Exit code 1 when the tool is unavailable (bubblewrap missing, no search engine).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import typer

from companion.cli._common import load

__all__ = ["app"]

app = typer.Typer(help="Run the tool agent's tools by hand (JSON output).", no_args_is_help=True)


def _print(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


@app.command("python")
def python_command(
    user: str = typer.Option(..., "--user", help="Whose workspace to use."),
    code: str = typer.Option(None, "--code", help="The program (default: read stdin)."),
) -> None:
    """Run Python in the sandbox as the run_python tool does."""
    from companion.tools.build import make_sandbox

    settings = load(log_format="text")
    sandbox = make_sandbox(settings)
    program = code if code is not None else sys.stdin.read()
    result = asyncio.run(sandbox.run(user, program))
    _print(result.to_dict())
    if sandbox.unavailable() is not None:
        raise SystemExit(1)


@app.command("search")
def search_command(
    query: str = typer.Argument(..., help="What to search for."),
    open_result: int = typer.Option(0, "--open", min=0, max=5, help="Also read result N."),
) -> None:
    """Search the web as the web_search tool does."""
    from companion.tools.build import make_search
    from companion.tools.errors import ToolError

    settings = load(log_format="text")
    search = make_search(settings)

    async def go() -> dict[str, Any]:
        provider, results = await search.search(query)
        out: dict[str, Any] = {
            "ok": True,
            "provider": provider,
            "results": [{"title": r.title, "url": r.url, "snippet": r.snippet} for r in results],
        }
        if open_result and open_result <= len(results):
            text, cut = await search.fetch(results[open_result - 1].url)
            out["page"] = {"url": results[open_result - 1].url, "text": text, "truncated": cut}
        return out

    try:
        _print(asyncio.run(go()))
    except ToolError as exc:
        _print({"ok": False, "error": str(exc)})
        raise SystemExit(1) from None
