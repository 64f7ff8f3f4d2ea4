"""What every web page shares: templates, the session dependencies, CSRF, flashes.

Pages are server-rendered Jinja2 (autoescaped); a form posts with a hidden
``csrf_token`` checked against the session; after a successful post the handler
redirects (303) and shows a one-time flash message on the next page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from importlib.resources import files
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from companion.api.deps import RuntimeDep
from companion.api.errors import status_for
from companion.errors import CompanionError, PermissionDenied
from companion.runtime import Runtime
from companion.web.session import WebSession, check_csrf, load_session

__all__ = [
    "AdminSessionDep",
    "PageRoute",
    "UserSessionDep",
    "checked_form",
    "flash",
    "redirect",
    "render",
    "templates",
]

log = logging.getLogger(__name__)

templates = Jinja2Templates(directory=str(files("companion.web") / "templates"))


def _when(value: datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M")


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


templates.env.filters["when"] = _when
templates.env.filters["num"] = _num


async def _admin_session(request: Request, runtime: RuntimeDep) -> WebSession:
    session = await load_session(request, runtime, "admin")
    if session is None:
        raise HTTPException(303, "sign in first", headers={"Location": "/admin/login"})
    return session


async def _user_session(request: Request, runtime: RuntimeDep) -> WebSession:
    session = await load_session(request, runtime, "user")
    if session is None:
        raise HTTPException(303, "sign in first", headers={"Location": "/chat"})
    return session


AdminSessionDep = Annotated[WebSession, Depends(_admin_session)]
UserSessionDep = Annotated[WebSession, Depends(_user_session)]


async def checked_form(request: Request, session: WebSession) -> FormData:
    """The posted form, once its ``csrf_token`` matches the session (403 otherwise)."""
    form = await request.form()
    token = form.get("csrf_token")
    if not check_csrf(session, token if isinstance(token, str) else None):
        raise PermissionDenied("the form's CSRF token is missing or out of date; reload the page")
    return form


def _flash_key(session: WebSession) -> str:
    return f"web:flash:{session.kind}:{session.csrf}"


async def flash(runtime: Runtime, session: WebSession, message: str) -> None:
    """Show ``message`` once on the session's next page."""
    await runtime.kv.set(_flash_key(session), message[:500], ttl=300)


def redirect(url: str) -> RedirectResponse:
    """After a post: see the result with a GET (303)."""
    return RedirectResponse(url, status_code=303)


async def render(
    request: Request,
    runtime: Runtime,
    name: str,
    session: WebSession | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render template ``name`` with the session's CSRF token and any flash message."""
    message = None
    if session is not None:
        raw = await runtime.kv.get(_flash_key(session))
        if raw is not None:
            await runtime.kv.delete(_flash_key(session))
            message = raw.decode() if isinstance(raw, bytes) else str(raw)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "session": session,
            "csrf": session.csrf if session else "",
            "flash_message": message,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    # Same-origin posts carry their Origin (the API's default "no-referrer" sends "null").
    response.headers["Referrer-Policy"] = "same-origin"
    return response


class PageRoute(APIRoute):
    """A web page's route: a domain error becomes an HTML page with the same status.

    The API keeps its JSON errors; people in a browser get a readable page instead.
    Redirects (``HTTPException`` 303 to a login page) pass through untouched.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler FastAPI built."""
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except CompanionError as exc:
                status = status_for(exc)
                if status >= 500:
                    log.error("web page failed: %s", exc.message, exc_info=exc)
                return templates.TemplateResponse(
                    request,
                    "error.html",
                    {"status": status, "message": exc.message, "csrf": "", "session": None},
                    status_code=status,
                    headers={"Cache-Control": "no-store"},
                )

        return page
