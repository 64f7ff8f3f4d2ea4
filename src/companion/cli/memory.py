"""``companion import`` / ``export`` / ``reembed``: a user's history in and out, vectors rebuilt."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from companion.cli import _common
from companion.errors import ConfigError

__all__ = ["export_command", "import_command", "reembed_command"]


def _parse(data: Any, conversation: str | None) -> list[tuple[str, list[Any]]]:
    """(conversation, messages) pairs from an API import body or a LoCoMo file."""
    from companion.bench.memory_quality import locomo_messages
    from companion.memory import ImportMessage

    if isinstance(data, list):  # LoCoMo: one conversation per sample
        return [
            (str(s.get("sample_id", i)), locomo_messages(s["conversation"]))
            for i, s in enumerate(data)
        ]
    messages = []
    for index, m in enumerate(data.get("messages", [])):
        try:
            stamp = datetime.fromisoformat(str(m["timestamp"]).replace("Z", "+00:00"))
            messages.append(
                ImportMessage(
                    str(m["external_id"]),
                    m["role"],
                    str(m.get("speaker", "")),
                    str(m["text"]),
                    stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC),
                )
            )
        except (KeyError, ValueError) as exc:
            _common.fail(f"messages[{index}]: {exc}")
    return [(conversation or str(data.get("conversation_id") or "import"), messages)]


def import_command(
    file: Annotated[Path, typer.Argument(help="API import JSON or a LoCoMo-format file.")],
    user: Annotated[str, typer.Option("--user", help="The user id to import for.")],
    conversation: Annotated[str | None, typer.Option(help="Conversation name or id.")] = None,
) -> None:
    """Import a conversation history (one transaction per conversation)."""
    settings = _common.load()
    batches = _parse(json.loads(file.read_text()), conversation)

    async def go() -> list[str]:
        from companion.memory import MemoryService
        from companion.runtime import Runtime

        runtime = await Runtime.start(settings)
        lines = []
        try:
            assert isinstance(runtime.memory, MemoryService)
            with Progress() as bar:
                task = bar.add_task("importing", total=len(batches))
                for name, messages in batches:
                    result = await runtime.memory.import_history(
                        user_id=user, conversation=name, messages=messages
                    )
                    lines.append(
                        f"{name}: {result.imported} messages, {result.memories_created} memories"
                    )
                    bar.advance(task)
        finally:
            await runtime.close()
        return lines

    typer.echo("\n".join(_common.run(go)))


def export_command(
    user: Annotated[str, typer.Option("--user", help="The user id to export.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (default stdout).")
    ] = None,
) -> None:
    """Export everything stored about one user as JSON."""
    settings = _common.load()

    async def go() -> dict[str, Any]:
        from companion.memory import MemoryService
        from companion.runtime import Runtime

        runtime = await Runtime.start(settings)
        try:
            assert isinstance(runtime.memory, MemoryService)
            return await runtime.memory.export(user_id=user)
        finally:
            await runtime.close()

    text = json.dumps(_common.run(go), indent=2, ensure_ascii=False)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text)


def reembed_command(
    batch: Annotated[int, typer.Option(help="Texts per embedding call.")] = 256,
) -> None:
    """Rebuild every memory vector with the configured embedder (after switching)."""
    settings = _common.load()

    async def go() -> dict[str, int]:
        from companion.memory.reembed import reembed_all
        from companion.runtime import Runtime

        runtime = await Runtime.start(settings, migrate=True)
        try:
            embedder = getattr(runtime.models, "embedder", None)
            if embedder is None:
                raise ConfigError("EMBEDDING_PROVIDER", "no embedder is configured")
            with Progress() as bar:
                task = bar.add_task("re-embedding", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                return await reembed_all(runtime.db, embedder, batch=batch, progress=progress)
        finally:
            await runtime.close()

    typer.echo(json.dumps(_common.run(go)))
