"""The web app served by the gateway: the user's chat and ``/me`` pages and the admin
dashboard (server-rendered Jinja2, server-made SVG charts, a little plain JS)."""

from __future__ import annotations

from companion.web.routes import router

__all__ = ["router"]
