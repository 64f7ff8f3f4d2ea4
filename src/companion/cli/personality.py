"""``companion personality plot --user U --out file.png``: mood and style over time."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from companion.cli._common import fail, load, run
from companion.personality.core.pad import decay_toward
from companion.types import PAD

__all__ = ["app", "render_plot"]

app = typer.Typer(help="Inspect a companion's personality.", no_args_is_help=True)

_PAD_COLOURS = {"pleasure": "tab:green", "arousal": "tab:orange", "dominance": "tab:blue"}


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _mood_curve(
    states: list[dict[str, Any]], *, half_life_minutes: float, samples: int = 24
) -> tuple[list[datetime], list[PAD]]:
    # Between two recorded states the mood relaxes toward the baseline (the needs'
    # nudge is not drawn); each recorded state starts a new segment.
    times: list[datetime] = []
    points: list[PAD] = []
    for state, following in zip(states, [*states[1:], None], strict=True):
        start, pad = _when(state["timestamp"]), PAD.from_dict(state["pad"])
        base = PAD.from_dict(state["pad_baseline"])
        end = _when(following["timestamp"]) if following is not None else start
        span = (end - start).total_seconds() / 60
        for k in range(samples if span > 0 else 1):
            minutes = span * k / samples
            times.append(start + timedelta(minutes=minutes))
            points.append(
                decay_toward(pad, base, minutes=minutes, half_life_minutes=half_life_minutes)
            )
    return times, points


def render_plot(
    history: list[dict[str, Any]],
    style: list[dict[str, Any]],
    *,
    user_id: str,
    out: Path,
    half_life_minutes: float = 90.0,
) -> None:
    """Draw PAD (recorded states as dots, homeostasis between them) with its baseline
    (dashed) and the style traits to ``out``."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    states = sorted(history, key=lambda h: (h["timestamp"], h["id"]))
    versions = sorted(style, key=lambda v: v["version"])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7.5), sharex=True)
    times = [_when(s["timestamp"]) for s in states]
    curve_t, curve = _mood_curve(states, half_life_minutes=half_life_minutes)
    for axis, colour in _PAD_COLOURS.items():
        top.plot(curve_t, [getattr(p, axis) for p in curve], color=colour, lw=1.2, label=axis)
        top.plot(times, [s["pad"][axis] for s in states], ".", color=colour, ms=3)
        top.step(
            times,
            [s["pad_baseline"][axis] for s in states],
            where="post",
            color=colour,
            ls="--",
            lw=1.5,
            alpha=0.8,
            label=f"{axis} baseline",
        )
    top.axhline(0, color="grey", lw=0.6)
    top.set_ylim(-1.05, 1.05)
    top.set_ylabel("PAD (−1 … 1)")
    top.set_title(f"Mood of {user_id}'s companion (dots: recorded states; dashed: baseline)")
    top.legend(ncol=3, fontsize=8, loc="lower left")
    vtimes = [_when(v["created_at"]) for v in versions]
    if times and vtimes:  # hold the last version to the end of the mood timeline
        vtimes.append(max(times[-1], vtimes[-1]))
        versions = [*versions, versions[-1]]
    for trait in ("warmth", "curiosity", "assertiveness", "humor", "emotional_depth"):
        bottom.step(vtimes, [v["traits"][trait] for v in versions], where="post", label=trait)
    bottom.axhspan(20, 95, color="grey", alpha=0.07)
    bottom.set_ylim(15, 100)
    bottom.set_ylabel("style trait (bounded 20–95)")
    bottom.set_title("Style traits by version")
    bottom.legend(ncol=5, fontsize=8, loc="lower left")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


@app.command("plot")
def plot(
    user: Annotated[str, typer.Option("--user", help="The user whose companion to plot.")],
    out: Annotated[Path, typer.Option("--out", help="PNG file to write.")] = Path(
        "personality.png"
    ),
    limit: Annotated[int, typer.Option(help="Most recent states to include.")] = 5000,
) -> None:
    """Plot PAD over time with the baseline, and the style traits over time."""
    from companion.personality import PersonalityService
    from companion.runtime import Runtime

    settings = load(log_format="text")

    async def _go() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        runtime = await Runtime.start(settings)
        try:
            service = runtime.personality
            if not isinstance(service, PersonalityService):
                fail("the personality service is not wired")
            assert isinstance(service, PersonalityService)
            history = await service.history(user_id=user, limit=limit)
            style = await service.style_history(user_id=user, limit=1000)
        finally:
            await runtime.close()
        return history, style

    history, style = run(_go)
    render_plot(
        history,
        style,
        user_id=user,
        out=out,
        half_life_minutes=settings.behaviour.pad_half_life_minutes,
    )
    typer.echo(f"wrote {out} ({len(history)} states, {len(style)} style versions)")
