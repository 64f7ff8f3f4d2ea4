"""The web app's routes: the user's chat and ``/me`` pages, the admin dashboard, and
the static files (CSS, JS) they need, all served by the gateway (no CDN)."""

from __future__ import annotations

import re
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from companion.errors import NotFound
from companion.web import (
    admin_ops,
    admin_personality,
    admin_views,
    memory_views,
    signin,
    user_pages,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_STATIC = files("companion.web") / "static"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_NAME = re.compile(r"^[a-z0-9_-]+\.(css|js)$")


@router.get("/")
async def index() -> RedirectResponse:
    """The root sends people to the chat page."""
    return RedirectResponse("/chat")


@router.get("/static/{name}")
async def static(name: str) -> Response:
    """A stylesheet or script of the web app (cached briefly; no directory access)."""
    if not _NAME.match(name) or not (_STATIC / name).is_file():
        raise NotFound(f"static file {name!r} not found")
    body = (_STATIC / name).read_bytes()
    media = _TYPES["." + name.rsplit(".", 1)[1]]
    return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=300"})


for _module in (signin, user_pages, memory_views, admin_views, admin_personality, admin_ops):
    router.include_router(_module.router)
