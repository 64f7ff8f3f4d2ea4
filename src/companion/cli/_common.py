"""Helpers shared by the subcommands: settings with a clean exit, running coroutines."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from companion.errors import CompanionError, ConfigError
from companion.logs import configure_logging
from companion.settings import Settings, get_settings

__all__ = ["GatewayKeyOption", "GatewayOption", "fail", "load", "run"]

T = TypeVar("T")


def load(*, log_format: str | None = None) -> Settings:
    """Load settings or exit 2 with one line naming the variable."""
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    from companion.security.prompt_safety import secret_values

    configure_logging(
        settings.core.log_level,
        fmt=log_format or settings.core.log_format,
        secrets=secret_values(settings),
    )
    return settings


def fail(message: str, code: int = 1) -> None:
    """Print an error line and exit."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; a domain error becomes one line on stderr and exit 1."""
    try:
        return asyncio.run(factory())  # type: ignore[arg-type]
    except CompanionError as exc:
        fail(str(exc))
        raise  # unreachable


#: ``--gateway URL`` of a bot command: talk to a remote gateway instead of in-process.
GatewayOption = Annotated[
    str | None,
    typer.Option(envvar="GATEWAY_URL", help="Talk to this gateway instead of in-process."),
]
#: ``--api-key K`` that goes with ``--gateway``.
GatewayKeyOption = Annotated[
    str | None,
    typer.Option(
        envvar="COMPANION_API_KEY",
        help="An admin API key for --gateway (companion keys create --admin).",
    ),
]
