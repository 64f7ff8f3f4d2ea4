"""Signing in and out with an API key: the admin dashboard and the chat page.

The key is posted once in a form (``api_key``) and exchanged for a session cookie;
the page never stores it. The login forms have no session yet, so they are guarded
against cross-site posts by the ``Origin`` header (a browser always sends it on a
form post); every later form carries the session's CSRF token.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.responses import Response

from companion.api.deps import RuntimeDep
from companion.errors import PermissionDenied
from companion.runtime import Runtime
from companion.store.models import ApiKey
from companion.store.repositories import api_keys
from companion.web.pages import PageRoute, checked_form, redirect, render
from companion.web.session import Kind, end_session, load_session, start_session

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)


def _same_origin(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None:  # modern browsers say where a request comes from
        return site in ("same-origin", "none")
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None  # no header: not a browser form post (scripts, tests)
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


async def _key(request: Request, runtime: Runtime) -> tuple[ApiKey | None, str]:
    if not _same_origin(request):
        raise PermissionDenied("sign-in forms must be posted from this site")
    form = await request.form()
    secret = str(form.get("api_key") or "").strip()
    if not secret:
        return None, "Enter an API key."
    if not secret.startswith(api_keys.KEY_PREFIX) or len(secret) > 200:
        return None, "That is not an API key (keys start with 'ck_')."
    async with runtime.db.transaction() as session:
        key = await api_keys.find_api_key(session, secret=secret)
    if key is None:
        return None, "Unknown or revoked API key."
    return key, ""


@router.get("/admin/login")
async def admin_login_page(request: Request, runtime: RuntimeDep) -> Response:
    """The admin sign-in form (straight to the dashboard when already signed in)."""
    if await load_session(request, runtime, "admin") is not None:
        return redirect("/admin")
    return await render(request, runtime, "admin/login.html", None)


@router.post("/admin/login")
async def admin_login(request: Request, runtime: RuntimeDep) -> Response:
    """An admin key opens a dashboard session; any other key is refused (403)."""
    key, problem = await _key(request, runtime)
    if key is None:
        return await render(
            request, runtime, "admin/login.html", None, status_code=401, error=problem
        )
    if not key.is_admin:
        return await render(
            request, runtime, "admin/login.html", None, status_code=403,
            error="This key is not an admin key; the dashboard needs one.",
        )  # fmt: skip
    response = redirect("/admin")
    await start_session(
        request, response, runtime, kind="admin", user_id=key.user_id, is_admin=True, key_id=key.id
    )
    return response


async def _logout(request: Request, runtime: Runtime, kind: Kind, to: str) -> Response:
    session = await load_session(request, runtime, kind)
    if session is not None:
        await checked_form(request, session)
    response = redirect(to)
    await end_session(request, response, runtime, kind)
    return response


@router.post("/admin/logout")
async def admin_logout(request: Request, runtime: RuntimeDep) -> Response:
    """End the dashboard session."""
    return await _logout(request, runtime, "admin", "/admin/login")


@router.post("/chat/login")
async def chat_login(request: Request, runtime: RuntimeDep) -> Response:
    """Any live key opens a chat session for its user."""
    key, problem = await _key(request, runtime)
    if key is None:
        return await render(
            request, runtime, "chat_login.html", None, status_code=401, error=problem
        )
    response = redirect("/chat")
    await start_session(
        request, response, runtime, kind="user", user_id=key.user_id, is_admin=False, key_id=key.id
    )
    return response


@router.post("/chat/logout")
async def chat_logout(request: Request, runtime: RuntimeDep) -> Response:
    """End the chat session."""
    return await _logout(request, runtime, "user", "/chat")
