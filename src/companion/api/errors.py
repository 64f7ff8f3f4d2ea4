"""Domain errors to HTTP, in one place. No stack trace reaches a client."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from companion import errors

__all__ = ["install_error_handlers", "status_for"]

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[errors.CompanionError], int]] = [
    (errors.AuthenticationError, 401),
    (errors.PermissionDenied, 403),
    (errors.NotFound, 404),
    (errors.Busy, 409),
    (errors.InvalidInput, 422),
    (errors.RateLimited, 429),
    (errors.UserSuspended, 403),
    (errors.ProviderUnavailable, 503),
    (errors.ProviderError, 503),
    (errors.DatabaseUnavailable, 503),
    (errors.StoreError, 503),
    (errors.ConfigError, 500),
]


def status_for(exc: errors.CompanionError) -> int:
    """The HTTP status of a domain error (the most specific match wins)."""
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def _body(kind: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": kind, "detail": message, **extra}


def _reply(
    request: Request,
    kind: str,
    message: str,
    status: int,
    headers: Mapping[str, str] | None = None,
    **extra: object,
) -> JSONResponse:
    """Our error body, or OpenAI's (``{"error": {"message", "type"}}``) under ``/v1``."""
    if request.url.path.startswith("/v1/"):
        body: dict[str, object] = {
            "error": {"message": message, "type": kind, "param": None, "code": None, **extra}
        }
    else:
        body = _body(kind, message, **extra)
    return JSONResponse(body, status_code=status, headers=headers)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.CompanionError)
    status = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if status >= 500:
        log.warning("request failed: %s", exc, extra={"error": type(exc).__name__})
    extra: dict[str, object] = {}
    if isinstance(exc, errors.TurnFailed):  # the apology that was recorded, in character
        extra = {
            "response": exc.reply,
            "conversation_id": exc.conversation_id,
            "interaction_id": exc.interaction_id,
        }
    if isinstance(exc, errors.RateLimited):
        extra["retry_after"] = exc.retry_after
    return _reply(request, type(exc).__name__, exc.message, status, headers, **extra)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err.get("loc", ()) if part != "body")
        problems.append({"field": loc or "body", "message": err.get("msg", "invalid")})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    return _reply(request, "InvalidInput", summary or "invalid request", 422, problems=problems)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _reply(request, "HTTPError", str(exc.detail), exc.status_code, exc.headers)


async def _bad_json(request: Request, exc: Exception) -> JSONResponse:
    # A route that reads the body itself (documents): the client's fault, a 422.
    assert isinstance(exc, json.JSONDecodeError)
    return _reply(request, "InvalidInput", f"request body is not valid JSON: {exc.msg}", 422)


async def _pool_exhausted(request: Request, exc: Exception) -> JSONResponse:
    # The pool had no free connection in time: busy, not broken.
    log.warning("database connection pool exhausted")
    message = "the database is busy; try again shortly"
    return _reply(request, "DatabaseUnavailable", message, 503, {"Retry-After": "1"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Classified by type only, never by the text of the message: input PostgreSQL
    # cannot store is refused before routing (``api.input_guard``), so a database
    # error here is a real fault.
    log.exception("unhandled error")
    return _reply(request, "InternalError", "internal error; see the server log", 500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(errors.CompanionError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    # Handlers of specific types answer and are done; the catch-all ``Exception``
    # handler also has the server log the error as a crash, which these are not.
    app.add_exception_handler(json.JSONDecodeError, _bad_json)
    app.add_exception_handler(SQLAlchemyTimeoutError, _pool_exhausted)
    app.add_exception_handler(Exception, _unexpected)
