"""``companion bench security``: detection quality and latency of the injection detector.

Goals (issue 7): TPR ≥ 0.90 at FPR ≤ 0.01 and ≤ 5 ms p95 per check without the LLM
judge. Measures the held-out split (default) or ``--dataset FILE`` (CSV, JSONL or
Parquet with ``text`` and ``label`` columns), with the local embedder's similarity
layer unless ``--patterns-only``. Prints a Markdown block for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer

from companion.cli._bench_group import app
from companion.security import Detector, build_detector, heldout, load_dataset, training
from companion.security.detector import Screen
from companion.security.evaluation import Report, evaluate

__all__ = ["bench_security"]


def _table(name: str, report: Report) -> list[str]:
    lines = [
        f"**{name}** — {report.size} messages ({report.attacks} attacks, {report.benign} benign): "
        f"TPR {report.tpr:.3f}, FPR {report.fpr:.3f} "
        f"({report.false_alarms} false alarms), "
        f"latency p50 {report.percentile_ms(50):.2f} ms, p95 {report.percentile_ms(95):.2f} ms, "
        f"p99 {report.percentile_ms(99):.2f} ms; embedded {report.embedded}/{report.size}; "
        f"deciding layer {report.layers}",
        "",
        "| category | support | TPR | FPR | F1 |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {c.category} | {c.support} | {c.tpr:.3f} | {c.fpr:.3f} | {c.f1:.3f} |"
        for c in report.categories
    ]
    return [*lines, ""]


async def _detector(patterns_only: bool, screen: Screen) -> tuple[Detector, str]:
    if patterns_only:
        return Detector(), "normalisation + patterns"
    from companion.llm.local_embedder import MiniLMEmbedder

    start = time.perf_counter()
    embedder = await asyncio.to_thread(MiniLMEmbedder)
    detector = await build_detector(embedder=embedder, screen=screen)
    seconds = time.perf_counter() - start
    label = (
        f"normalisation + patterns + MiniLM classifier, screen={screen} (built in {seconds:.1f} s)"
    )
    return detector, label


async def _run(
    dataset: Path | None, patterns_only: bool, threshold: float, repeats: int, screen: Screen
) -> list[str]:
    detector, label = await _detector(patterns_only, screen)
    sets = [("held-out split", heldout())]
    benign_chat = [e for e in training() if e.label == "benign"]
    sets.append(("benign companion chat (training split)", benign_chat))
    if dataset is not None:
        sets.insert(0, (dataset.name, load_dataset(dataset)))
    # One warm-up pass so first-call costs (regex compilation, ONNX) are not timed.
    await evaluate(detector, training()[:20], threshold=threshold)
    lines = [
        f"Detector: {label}; action threshold {threshold}; no LLM judge; "
        f"latency = fastest of {repeats} cold run(s) per message.",
        "",
    ]
    for name, examples in sets:
        report = await evaluate(detector, examples, threshold=threshold, repeats=repeats)
        lines += _table(name, report)
    return lines


@app.command("security")
def bench_security(
    dataset: Annotated[
        Path | None, typer.Option("--dataset", help="CSV/JSONL/Parquet with text, label")
    ] = None,
    patterns_only: bool = typer.Option(False, "--patterns-only", help="Skip the embedder layer"),
    threshold: float = typer.Option(0.7, min=0.0, max=1.0, help="SECURITY_CONFIDENCE_THRESHOLD"),
    show_errors: bool = typer.Option(False, "--show-errors", help="List misses and false alarms"),
    repeats: int = typer.Option(3, min=1, help="Time each check N times, keep the fastest"),
    screen: str = typer.Option("cue", help="Embed: cue | lexicon | all (see detector)"),
) -> None:
    """Detection TPR/FPR/F1 per category and p95 latency per check (no LLM)."""
    if screen not in ("cue", "lexicon", "all"):
        raise typer.BadParameter("--screen must be cue, lexicon or all")
    mode: Screen = screen  # type: ignore[assignment]
    lines = asyncio.run(_run(dataset, patterns_only, threshold, repeats, mode))
    typer.echo("\n".join(lines))
    if show_errors:
        asyncio.run(_errors(dataset, patterns_only, threshold, mode))


async def _errors(
    dataset: Path | None, patterns_only: bool, threshold: float, screen: Screen
) -> None:
    detector, _ = await _detector(patterns_only, screen)
    examples = load_dataset(dataset) if dataset is not None else heldout()
    report = await evaluate(detector, examples, threshold=threshold)
    for text in report.misses:
        typer.echo(f"MISS  {text}")
    for text in report.false_alarm_texts:
        typer.echo(f"FALSE {text}")
