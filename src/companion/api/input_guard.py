"""Input PostgreSQL cannot store, refused up front with a 422 that names it.

PostgreSQL rejects NUL (``\\u0000``) in ``text`` and ``jsonb`` and integers outside
64 bits in ``bigint``. Rather than letting such a request reach the database and then
guessing from the error's text what went wrong, this ASGI middleware looks at the
query string and any JSON body before routing: bad input is a 422 for the right
reason, and a database error that still happens is a real fault (5xx, logged).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["InputGuard", "find_problem"]

_INT64 = 2**63 - 1
_NUL = "\x00"
_NUL_MESSAGE = "must not contain NUL (\\u0000) characters"
_RANGE_MESSAGE = "number out of range (at most 64-bit integers)"
#: 19 digits in a row: the shortest integer past 64 bits (2**63) has 19.
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every key and leaf of a decoded JSON value with its dotted path."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key)
            yield from _walk(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    else:
        yield path or "body", value


def _leaf_problem(value: Any) -> str | None:
    if isinstance(value, str) and _NUL in value:
        return _NUL_MESSAGE
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _INT64:
        return _RANGE_MESSAGE
    return None


def find_problem(value: Any) -> tuple[str, str] | None:
    """``(field, message)`` for the first value PostgreSQL could not store, else None."""
    for path, leaf in _walk(value, ""):
        message = _leaf_problem(leaf)
        if message is not None:
            return path, message
    return None


def _query_problem(scope: Scope) -> tuple[str, str] | None:
    path = unquote(scope.get("path", ""))
    if _NUL in path:
        return "path", _NUL_MESSAGE
    query = scope.get("query_string", b"").decode("latin-1")
    for name, raw in parse_qsl(query, keep_blank_values=True):
        if _NUL in name or _NUL in raw:
            return name.replace(_NUL, ""), _NUL_MESSAGE
        digits = raw.lstrip("+-")
        if digits.isdigit() and len(digits) > 18 and abs(int(raw)) > _INT64:
            return name, _RANGE_MESSAGE
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


class InputGuard:
    """Pure ASGI middleware (so streaming responses and disconnects pass untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _query_problem(scope)
        if problem is None and _is_json(scope):
            body = await _read_body(receive)
            receive = _replay(body, receive)
            problem = _body_problem(body)
        if problem is None:
            await self.app(scope, receive, send)
            return
        field, message = problem
        response = _refusal(Request(scope), field, message)
        await response(scope, receive, send)


def _may_have_problem(body: bytes) -> bool:
    """Whether ``body`` could decode to a NUL or an integer past 64 bits.

    In a UTF-8 JSON text a NUL in a string or key can only be written as the escape
    ``\\u0000`` (a raw NUL byte is not valid JSON), and an integer past 64 bits needs
    19 digits in a row. A body with neither, and no NUL byte at all (``json.loads`` also
    reads UTF-16 and UTF-32, whose ASCII characters carry NUL bytes), is not decoded
    and walked here: most requests, whose body the route decodes anyway.
    """
    return b"\x00" in body or b"\\u0000" in body or _LONG_DIGITS.search(body) is not None


def _body_problem(body: bytes) -> tuple[str, str] | None:
    if not _may_have_problem(body):
        return None
    try:
        decoded = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None  # not JSON: the route's own validation answers that
    return find_problem(decoded)


def _refusal(request: Request, field: str, message: str) -> JSONResponse:
    detail = f"{field}: {message}"
    if request.url.path.startswith("/v1/"):
        body: dict[str, Any] = {
            "error": {"message": detail, "type": "InvalidInput", "param": field, "code": None}
        }
    else:
        body = {
            "error": "InvalidInput",
            "detail": detail,
            "problems": [{"field": field, "message": message}],
        }
    return JSONResponse(body, status_code=422)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body we read, then the real channel."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
