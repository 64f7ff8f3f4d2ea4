"""``companion bench …``: importing each domain's bench module registers its command."""

from __future__ import annotations

from companion.cli import (
    bench_gateway,
    bench_llm,
    bench_memory,
    bench_models,
    bench_personality,
    bench_proactive,
    bench_reliability,
    bench_security,
)
from companion.cli._bench_group import app

__all__ = ["app"]

_REGISTERED = (
    bench_gateway,
    bench_llm,
    bench_memory,
    bench_models,
    bench_personality,
    bench_proactive,
    bench_reliability,
    bench_security,
)
