"""``companion bench memory``: retrieval quality, search latency at scale, write costs.

Quality: LoCoMo-format JSON (default: our committed dataset) imported through the
import path; turn-level evidence recall@k per category beside dense and BM25
baselines. Latency: synthetic bulk rows in a scratch database of the embedded
server (never the live one), then search p50/p95 for a 10k and a 100k-memory user.
Prints Markdown for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from companion.cli import _common
from companion.cli._bench_group import app

__all__ = ["bench_memory"]

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "bench/data/memory/companion_locomo.json"
SCRATCH_DB = "companion_bench_memory"


def _recall_table(recall: dict[str, Any]) -> list[str]:
    lines = ["| category (n) | system | R@1 | R@5 | R@10 | R@20 |", "|---|---|---:|---:|---:|---:|"]
    for cat in sorted(recall, key=lambda c: (c == "all", c)):
        n = recall[cat]["questions"]["n"]
        for system in ("companion", "dense", "bm25"):
            row = recall[cat].get(system, {})
            cells = " | ".join(f"{row.get(f'recall@{k}', 0):.2f}" for k in (1, 5, 10, 20))
            lines.append(f"| {cat} ({n}) | {system} | {cells} |")
    return lines


async def _quality(data: Path) -> list[str]:
    from companion.memory import MemoryService
    from companion.memory.benchmark import run_quality
    from companion.memory.latency_bench import write_path_cost
    from companion.runtime import Runtime

    runtime = await Runtime.start(_common.load())
    try:
        assert isinstance(runtime.memory, MemoryService)
        result = await run_quality(runtime.memory, data)
        write = await write_path_cost(runtime.memory, runtime.db)
    finally:
        await runtime.close()
    return [
        f"Quality on `{data.name}`: {result['samples']} conversations, {result['messages']} "
        "turns; turn-level evidence recall@k (a result counts the turns it cites).",
        "",
        *_recall_table(result["recall"]),
        "",
        f"Import throughput (embedding, rule importance and facts, one transaction per "
        f"conversation): **{result['import_msgs_per_s']} messages/s**.",
        f"Write path per live turn (`remember_turn`: importance, facts, embedding, insert): "
        f"mean {write['mean_ms']} ms, p50 {write['p50_ms']} ms, p95 {write['p95_ms']} ms.",
    ]


async def _latency(total: int, heavy: int, medium: int, rebuild: bool) -> list[str]:
    from companion.memory import MemoryService
    from companion.memory.latency_bench import build_bulk, search_latency
    from companion.runtime import Runtime
    from companion.settings import load_settings
    from companion.store.embedded import EmbeddedPostgres

    settings = _common.load()
    if settings.db.database_url:
        _common.fail("the latency benchmark needs the embedded server (unset DATABASE_URL)")
    server = EmbeddedPostgres(settings.core.companion_home)
    server.start()
    if rebuild:
        server.drop_database(SCRATCH_DB)
    server.create_database(SCRATCH_DB)
    os.environ["DATABASE_URL"] = server.url(SCRATCH_DB)
    runtime = await Runtime.start(load_settings(None))
    lines = []
    try:
        async with runtime.db.session() as session:
            from sqlalchemy import text

            existing = (await session.execute(text("SELECT count(*) FROM memories"))).scalar_one()
        if existing < total:
            built = await build_bulk(runtime.db, heavy=heavy, medium=medium, total=total)
            lines.append(
                f"Bulk: {total:,} rows inserted in {built['insert_s']} s, HNSW built in "
                f"{built['index_s']} s."
            )
        assert isinstance(runtime.memory, MemoryService)
        for user, size in (("lat:medium", medium), ("lat:heavy", heavy)):
            stats = await search_latency(runtime.memory, user_id=user)
            lines.append(
                f"Search, k = 10, query embedding included, {size:,} memories for the user "
                f"among {total:,}: p50 **{stats['p50_ms']} ms**, p95 **{stats['p95_ms']} ms** "
                f"(n = {stats['n']})."
            )
    finally:
        await runtime.close()
    return lines


@app.command("memory")
def bench_memory(
    data: Annotated[Path, typer.Option(help="LoCoMo-format JSON file.")] = DEFAULT_DATA,
    quality: Annotated[bool, typer.Option(help="Run the quality harness.")] = True,
    latency: Annotated[bool, typer.Option(help="Run the latency benchmark.")] = True,
    total: Annotated[int, typer.Option(help="Rows in the scratch table.")] = 1_000_000,
    heavy: Annotated[int, typer.Option(help="Memories of the heavy user.")] = 100_000,
    medium: Annotated[int, typer.Option(help="Memories of the medium user.")] = 10_000,
    rebuild: Annotated[bool, typer.Option(help="Drop and rebuild the scratch data.")] = False,
) -> None:
    """Measure memory quality and speed; print Markdown for docs/BENCHMARKS.md."""
    started = time.perf_counter()
    lines: list[str] = []
    if quality:
        lines += _common.run(lambda: _quality(data))
    if latency:
        lines += ["", *_common.run(lambda: _latency(total, heavy, medium, rebuild))]
    lines.append(f"\n_Total {time.perf_counter() - started:.0f} s._")
    typer.echo("\n".join(lines))
