"""``POST /telegram/webhook``: Telegram pushes updates here in webhook mode.

Telegram proves it is Telegram with the secret token we gave it in ``setWebhook``
(header ``X-Telegram-Bot-Api-Secret-Token``); anything else is refused with 403.
The update is queued to the bot running in this process and answered at once.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request

from companion.api.deps import RuntimeDep
from companion.errors import InvalidInput, NotFound, PermissionDenied

__all__ = ["router"]

router = APIRouter(tags=["channels"])

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@router.post("/telegram/webhook", include_in_schema=False)
async def webhook(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """Queue one update for the in-process bot (404 unless it runs in webhook mode)."""
    service = runtime.extras.get("telegram")
    if service is None or not getattr(service, "webhook", False):
        raise NotFound("no Telegram bot in webhook mode runs here")
    secret = runtime.settings.channels.telegram_webhook_secret or ""
    given = request.headers.get(SECRET_HEADER, "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        raise PermissionDenied("wrong or missing Telegram secret token")
    try:
        data = await request.json()
    except ValueError:
        raise InvalidInput("body: must be a Telegram update in JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise InvalidInput("body: must be a Telegram update with an integer update_id")
    try:
        await service.feed(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"body: not a valid Telegram update ({type(exc).__name__})") from None
    return {"ok": True}
