"""The five tools: web_search, run_python, files, current_time, memory_search."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from companion.conversation.ports import MemoryPort
from companion.tools.errors import ToolError, ToolUnavailable
from companion.tools.registry import ToolContext, ToolSpec
from companion.tools.sandbox import PythonSandbox
from companion.tools.search import WebSearch
from companion.tools.workspace import Workspace

__all__ = ["builtin_tools"]

_FILE_READ_CHARS = 10_000


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"'{text[:limit]}…'" if len(text) > limit else f"'{text}'"


def web_search_tool(search: WebSearch) -> ToolSpec:
    """Five results for a query; ``open`` (1-5) also reads that result's page."""

    async def handler(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
        provider, results = await search.search(args["query"])
        out: dict[str, Any] = {
            "ok": True,
            "provider": provider,
            "results": [{"title": r.title, "url": r.url, "snippet": r.snippet} for r in results],
        }
        number = args.get("open")
        if number is not None:
            if number > len(results):
                raise ToolError(f"open: there are only {len(results)} results")
            url = results[number - 1].url
            text, truncated = await search.fetch(url)
            out["page"] = {"url": url, "text": text, "truncated": truncated}
        return out

    return ToolSpec(
        name="web_search",
        description=(
            "Search the web. Returns five results (title, url, snippet). Set open to a "
            "result number (1-5) to also read that page as text."
        ),
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "maxLength": 400},
                "open": {"type": "integer", "minimum": 1, "maximum": 5},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
        handler=handler,
        summary=lambda a: f"searched the web for {_quote(a['query'])}",
    )


def run_python_tool(sandbox: PythonSandbox) -> ToolSpec:
    """Python 3 in the sandbox; the user's files are in /workspace."""

    async def handler(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
        reason = sandbox.unavailable()
        if reason is not None:
            raise ToolUnavailable(reason)
        return (await sandbox.run(ctx.user_id, args["code"])).to_dict()

    return ToolSpec(
        name="run_python",
        description=(
            "Run a Python 3 program (standard library only, no network) and get its "
            "stdout and stderr; print what you need. The user's files are in /workspace. "
            f"Limits: {sandbox.limits.timeout:g} s, {sandbox.limits.memory_bytes >> 20} MB."
        ),
        parameters={
            "type": "object",
            "properties": {"code": {"type": "string", "maxLength": 20_000}},
            "required": ["code"],
            "additionalProperties": False,
        },
        handler=handler,
        summary=lambda a: "ran some Python",
    )


def files_tool(workspace: Workspace) -> ToolSpec:
    """Create, read, list and delete files in the user's workspace."""

    async def handler(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
        action = args["action"]
        if action == "list":
            files = workspace.list_files(ctx.user_id)
            return {"ok": True, "files": [{"path": f.path, "size": f.size} for f in files]}
        path = args.get("path")
        if not path:
            raise ToolError(f"path: required for {action}")
        if action == "create":
            written = workspace.create(ctx.user_id, path, args.get("content", ""))
            return {"ok": True, "path": written.path, "size": written.size}
        if action == "read":
            text, truncated = workspace.read(ctx.user_id, path, max_chars=_FILE_READ_CHARS)
            return {"ok": True, "path": path, "content": text, "truncated": truncated}
        workspace.delete(ctx.user_id, path)
        return {"ok": True, "deleted": path}

    return ToolSpec(
        name="files",
        description=(
            "The user's workspace files: action create (path, content), read (path), "
            "list, or delete (path). Paths are relative, like notes/todo.txt."
        ),
        parameters={
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": ["create", "read", "list", "delete"]},
                "path": {"type": "string", "maxLength": 255},
                "content": {"type": "string", "maxLength": 1_000_000},
            },
            "required": ["action"],
            "additionalProperties": False,
        },
        handler=handler,
        summary=lambda a: (
            f"{a['action']} {'files' if a['action'] == 'list' else 'a file'}"
            + (f" ({a['path']})" if a.get("path") else "")
        ),
    )


def current_time_tool() -> ToolSpec:
    """The date and time in the user's timezone."""

    async def handler(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
        try:
            zone = ZoneInfo(ctx.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        now = datetime.now(UTC).astimezone(zone)
        return {
            "ok": True,
            "timezone": str(zone),
            "local_time": now.isoformat(timespec="seconds"),
            "weekday": now.strftime("%A"),
        }

    return ToolSpec(
        name="current_time",
        description="The current date and time in the user's timezone.",
        parameters={"type": "object", "properties": {}, "additionalProperties": False},
        handler=handler,
        summary=lambda a: "checked the time",
    )


def memory_search_tool(memory: MemoryPort) -> ToolSpec:
    """The user's own memories relevant to a query."""

    async def handler(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
        found = await memory.retrieve(user_id=ctx.user_id, query=args["query"], k=5)
        return {
            "ok": True,
            "memories": [
                {"content": m.content, "type": m.memory_type, "when": m.created_at.date()}
                for m in found
            ],
        }

    return ToolSpec(
        name="memory_search",
        description="Search what you remember about this user (their own memories only).",
        parameters={
            "type": "object",
            "properties": {"query": {"type": "string", "maxLength": 400}},
            "required": ["query"],
            "additionalProperties": False,
        },
        handler=handler,
        summary=lambda a: f"looked through my memories for {_quote(a['query'])}",
    )


def builtin_tools(
    *,
    search: WebSearch | None,
    sandbox: PythonSandbox | None,
    workspace: Workspace | None,
    memory: MemoryPort | None,
) -> list[ToolSpec]:
    """The tools that can be offered with what is configured."""
    specs = [current_time_tool()]
    if search is not None:
        specs.append(web_search_tool(search))
    if sandbox is not None and sandbox.unavailable() is None:
        specs.append(run_python_tool(sandbox))
    if workspace is not None:
        specs.append(files_tool(workspace))
    if memory is not None:
        specs.append(memory_search_tool(memory))
    return specs
