"""The browser chat page: static HTML that talks to ``/api/chat/stream`` with an API key."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_STATIC = files("companion.web") / "static"


@router.get("/")
async def index() -> RedirectResponse:
    """The root sends people to the chat page."""
    return RedirectResponse("/chat")


@router.get("/chat")
async def chat_page() -> HTMLResponse:
    """A single page: paste a key once, then chat with streamed replies."""
    html = (_STATIC / "chat.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})
