"""``/api/persona/*``: import a character card as a new companion, export one as a card.

``POST /api/persona/import`` takes a multipart ``file`` (Character Card V1/V2/V3 as
JSON, PNG or .charx) and an optional ``private`` flag; admins may pass ``user_id``.
It creates a new companion and makes it the active one (``/api/companions`` lists and
switches them). ``GET /api/persona/export`` returns the active companion (or
``companion_id``) as ``format=v2|v3`` JSON or ``png|png3`` (a PNG with the card in its
``tEXt`` chunks).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from companion.api.deps import PrincipalDep, RuntimeDep
from companion.api.routes.personality import _service
from companion.errors import InvalidInput
from companion.personality.cards import MAX_CARD_BYTES, export_json, export_png, parse_card
from companion.personality.persona_cards import export_card, import_card

__all__ = ["router"]

router = APIRouter(prefix="/api/persona", tags=["persona"])


@router.post("/import", status_code=201)
async def import_persona(
    principal: PrincipalDep,
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File(description="A character card: JSON, PNG or .charx")],
    user_id: Annotated[str | None, Form()] = None,
    private: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """Make the card a new companion of the caller (or, for admins, of ``user_id``)
    and their active one; their other companions are kept."""
    target = principal.act_as(user_id)
    data = await file.read(MAX_CARD_BYTES + 1)
    if len(data) > MAX_CARD_BYTES:
        raise InvalidInput(f"file: over the {MAX_CARD_BYTES // (1024 * 1024)} MiB limit")
    card = parse_card(data, file.filename or "")
    return await import_card(_service(runtime), user_id=target, card=card, private=private)


@router.get("/export", response_model=None)
async def export_persona(
    principal: PrincipalDep,
    runtime: RuntimeDep,
    format: Annotated[Literal["v2", "v3", "png", "png3"], Query()] = "v2",
    user_id: Annotated[str | None, Query(max_length=100)] = None,
    companion_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    """The active companion (or ``companion_id``) as a V2/V3 card (JSON) or a PNG card."""
    card = await export_card(
        _service(runtime), user_id=principal.act_as(user_id), companion_id=companion_id
    )
    safe = "".join(c for c in card.name if c.isalnum() or c in "-_ ") or "companion"
    if format in ("png", "png3"):
        body = export_png(card, 3 if format == "png3" else 2)
        headers = {"Content-Disposition": f'attachment; filename="{safe}.png"'}
        return Response(body, media_type="image/png", headers=headers)
    return JSONResponse(export_json(card, 3 if format == "v3" else 2))
