"""The personality page: PAD over time against its baseline, style traits by version,
Big Five, needs, quirks, and the bounded, versioned style-trait tuner."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from companion.api.deps import RuntimeDep
from companion.errors import CompanionError, ConfigError, InvalidInput
from companion.personality import PersonalityService
from companion.personality.core.presets import BIG_FIVE_TRAITS
from companion.personality.core.style import HIGH, LOW, STYLE_TRAITS
from companion.runtime import Runtime
from companion.web.charts import Bar, Series, bar_chart, line_chart
from companion.web.pages import AdminSessionDep, PageRoute, checked_form, flash, redirect, render

__all__ = ["personality_service", "router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

_PAD = ("pleasure", "arousal", "dominance")


def personality_service(runtime: Runtime) -> PersonalityService:
    """The runtime's personality service."""
    if not isinstance(runtime.personality, PersonalityService):
        raise ConfigError("personality", "the personality service is not wired in this process")
    return runtime.personality


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def pad_chart(history: list[dict[str, Any]]) -> Any:
    """PAD dimensions over time (points) with each dimension's baseline (dashed)."""
    rows = [(t, h) for h in reversed(history) if (t := _time(h.get("timestamp"))) is not None]
    series = [
        Series(dim, [(t, float(h["pad"][dim])) for t, h in rows],
               labels=[f"{h['emotion_label']}, {t:%m-%d %H:%M}" for t, h in rows])
        for dim in _PAD
    ]  # fmt: skip
    series += [
        Series(f"{dim} baseline", [(t, float((h["pad_baseline"] or {}).get(dim, 0.0)))
                                   for t, h in rows], color=s.color, dashed=True)
        for dim, s in zip(_PAD, series, strict=True)
    ]  # fmt: skip
    colors = ("#0072B2", "#D55E00", "#009E73")
    series = [
        Series(s.name, s.points, colors[i % 3], s.dashed, s.labels) for i, s in enumerate(series)
    ]
    return line_chart(series, title="Mood (PAD) over time with its baseline", y_range=(-1, 1))


def style_chart(versions: list[dict[str, Any]]) -> Any:
    """Each style trait by version."""
    ordered = list(reversed(versions))
    return line_chart(
        [
            Series(trait, [(v["version"], float(v["traits"][trait])) for v in ordered],
                   labels=[f"v{v['version']}: {v['reason']}" for v in ordered])
            for trait in STYLE_TRAITS
        ],
        title="Style traits by version", y_range=(0, 100),
    )  # fmt: skip


@router.get("/admin/personality/{user_id}")
async def personality_page(
    user_id: str, request: Request, runtime: RuntimeDep, session: AdminSessionDep
) -> Response:
    """Charts and the tuner for one user's companion."""
    service = personality_service(runtime)
    current = await service.current(user_id=user_id)
    history = await service.history(user_id=user_id, limit=300)
    versions = await service.style_history(user_id=user_id, limit=100)
    quirks = await service.quirks(user_id=user_id)
    needs = await service.needs(user_id=user_id)
    big_five = bar_chart(
        [Bar(t, float(current["big_five"][t])) for t in BIG_FIVE_TRAITS], title="Big Five"
    )
    need_bars = bar_chart(
        [Bar(n["need_type"] + (" (urgent)" if n["urgent"] else ""), float(n["level"]))
         for n in needs],
        title="Needs", color="#009E73",
    )  # fmt: skip
    return await render(
        request, runtime, "admin/personality.html", session, subject=user_id, current=current,
        pad=pad_chart(history), style=style_chart(versions), big_five=big_five,
        needs=need_bars, need_rows=needs, quirks=quirks, versions=versions,
        traits=STYLE_TRAITS, low=LOW, high=HIGH, nav="users",
    )  # fmt: skip


@router.post("/admin/personality/{user_id}/tune")
async def tune(
    user_id: str, request: Request, runtime: RuntimeDep, session: AdminSessionDep
) -> Response:
    """Set style traits within bounds; a new version records the reason and the diff."""
    form = await checked_form(request, session)
    reason = str(form.get("reason") or "").strip()
    try:
        if not reason:
            raise InvalidInput("reason: say why you tune the traits")
        traits: dict[str, int] = {}
        for trait in STYLE_TRAITS:
            raw = str(form.get(trait) or "").strip()
            if raw:
                if not raw.lstrip("-").isdigit():
                    raise InvalidInput(f"{trait} must be a whole number between {LOW} and {HIGH}")
                traits[trait] = int(raw)
        row = await personality_service(runtime).tune_traits(
            user_id=user_id, traits=traits, reason=reason[:500]
        )
        message = f"Style traits are now version {row['version']}."
    except CompanionError as exc:
        message = f"Not tuned: {exc.message}"
    await flash(runtime, session, message)
    return redirect(f"/admin/personality/{quote(user_id, safe='')}")
