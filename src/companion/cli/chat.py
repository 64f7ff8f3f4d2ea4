"""``companion chat``: talk to the companion in the terminal (in-process, streaming).

Commands inside the chat: ``/reset`` forgets the recent context (long-term memory
stays), ``/new`` starts a new conversation, ``/quit`` (or Ctrl-D) leaves.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from companion.cli._common import load, run

if TYPE_CHECKING:
    from companion.conversation.pipeline import ConversationService

__all__ = ["chat"]

_HELP = "[dim]/reset forgets recent context · /new starts over · /quit leaves[/dim]"


def chat(
    user: Annotated[str, typer.Option("--user", help="Who you are (created if new).")] = "local",
) -> None:
    """Chat with your companion in the terminal."""
    from companion.runtime import Runtime

    settings = load(log_format="text")
    console = Console()

    async def _go() -> None:
        with console.status("Waking up the companion…"):
            runtime = await Runtime.start(settings)
        runtime.conversation.start_workers()  # memory work of this session's turns
        try:
            await _loop(runtime.conversation, user=user, console=console)
        finally:
            await runtime.close()

    run(_go)


async def _ask(console: Console) -> str | None:
    try:
        return await asyncio.to_thread(console.input, "[bold cyan]you ›[/bold cyan] ")
    except (EOFError, KeyboardInterrupt):
        return None


async def _loop(service: ConversationService, *, user: str, console: Console) -> None:
    from companion.conversation.types import TurnRequest
    from companion.errors import CompanionError

    console.print(f"[bold]Companion[/bold] — chatting as [cyan]{user}[/cyan]. {_HELP}")
    conversation: uuid.UUID | None = None
    new = False
    while (text := await _ask(console)) is not None:
        command = text.strip().lower()
        if command in {"/quit", "/exit"}:
            break
        if command == "/reset":
            await service.reset(user, conversation)
            console.print("[dim](recent context forgotten; long-term memories stay)[/dim]")
            continue
        if command == "/new":
            conversation, new = None, True
            console.print("[dim](new conversation)[/dim]")
            continue
        if not command:
            continue
        request = TurnRequest(
            user_id=user,
            text=text,
            channel="cli",
            conversation_id=conversation,
            new_conversation=new,
        )
        try:
            conversation = await _reply(service, request, console)
            new = False
        except CompanionError as exc:
            console.print(f"[red]{exc}[/red]")
    console.print("[dim]bye[/dim]")


async def _reply(service: ConversationService, request: object, console: Console) -> uuid.UUID:
    from companion.conversation.types import TurnRequest

    assert isinstance(request, TurnRequest)
    console.print("[bold magenta]companion ›[/bold magenta] ", end="")
    streamed = False
    async for event in service.stream(request):
        if event.kind == "delta":
            streamed = True
            console.print(event.text, end="", markup=False, highlight=False)
        elif event.result is not None:
            if not streamed:
                console.print(event.result.reply, end="", markup=False, highlight=False)
            console.print()
            if event.result.error:
                console.print(f"[dim](no model could answer: {event.result.error})[/dim]")
            return event.result.conversation_id
    raise AssertionError("the pipeline always ends with a done event")
