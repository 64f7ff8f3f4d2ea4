"""``companion security train``: regenerate the shipped injection classifier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from companion.errors import InvalidInput

__all__ = ["app"]

app = typer.Typer(help="Injection detection: train the classifier.", no_args_is_help=True)

_DEFAULT_OUT = Path(__file__).resolve().parents[1] / "security" / "data"


@app.command("train")
def train_command(
    data: Annotated[Path, typer.Option("--data", help="Folder with injection-dev.jsonl")] = Path(
        "../shared/data"
    ),
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write the npz (default: the package)")
    ] = None,
) -> None:
    """Train on train_ok dev items (outside the dev hold-out) and our written sets.

    Refuses (exit 1) while any line we wrote shares six consecutive words with a dev
    text, naming the file, the line and the words.
    """
    from companion.security.classifier import MODEL_FILE
    from companion.security.devdata import load_dev
    from companion.security.overlap import RUN_WORDS
    from companion.security.trainer import train_shipped, wording_overlaps

    try:
        dev = load_dev(data)
    except InvalidInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    overlaps = wording_overlaps(dev, data)
    if overlaps:
        typer.echo(
            f"error: {len(overlaps)} run(s) of {RUN_WORDS}+ words in our training text also "
            f"occur in the dev corpus; reword these lines in our own words before training:",
            err=True,
        )
        for overlap in overlaps:
            typer.echo(f"  {overlap}", err=True)
        raise typer.Exit(1)
    target = out or _DEFAULT_OUT / MODEL_FILE
    model = train_shipped(dev, target)
    meta = model.meta
    typer.echo(
        f"wrote {target} ({target.stat().st_size // 1024} KiB): {meta['attacks']} attacks, "
        f"{meta['benign']} benign, Platt a={model.platt[0]:.3f} b={model.platt[1]:.3f}, "
        f"{meta['training_seconds']} s; calibrated for an attack share of "
        f"{meta.get('calibration_prior')}"
    )
    for row in meta["calibration_bins"]:
        typer.echo(
            f"  out-of-fold p in [{row['low']:.1f}, {row['low'] + 0.1:.1f}): n={row['count']}, "
            f"predicted {row['predicted']:.3f}, observed {row['observed']:.3f}"
        )
