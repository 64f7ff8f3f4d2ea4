"""Web pages served by the gateway: the chat page."""

from __future__ import annotations

from companion.web.routes import router

__all__ = ["router"]
