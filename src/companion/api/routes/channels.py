"""``/api/channels``: where a user was last reached on a chat channel.

Bots running on their own (``companion discord --gateway``) record here where each
user last spoke, so proactive delivery can fall back to that channel. The admin key
acts for ``discord:<id>`` and ``telegram:<id>`` users; a user key only for itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from companion.api.deps import PrincipalDep, RuntimeDep
from companion.channels import ChannelInfo, InProcessClient
from companion.errors import NotFound

__all__ = ["router"]

router = APIRouter(prefix="/api/channels", tags=["channels"])

ChannelName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,29}$")]


class ChannelBody(BaseModel):
    """A user's address on a channel."""

    account_id: str = Field(min_length=1, max_length=64)
    chat_id: str = Field(min_length=1, max_length=64)
    kind: str = Field(default="dm", pattern=r"^(dm|guild|group)$")
    guild_id: str | None = Field(default=None, max_length=64)
    undeliverable: bool = False


@router.put("/{user_id}/{channel}", response_model=ChannelBody)
async def remember(
    user_id: str,
    channel: ChannelName,
    body: ChannelBody,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> ChannelBody:
    """Record where the user last spoke on ``channel``."""
    info = ChannelInfo(channel=channel, **body.model_dump())
    await InProcessClient(runtime).remember_channel(principal.act_as(user_id), info)
    return body


@router.get("/{user_id}/{channel}", response_model=ChannelBody)
async def last(
    user_id: str, channel: ChannelName, principal: PrincipalDep, runtime: RuntimeDep
) -> ChannelBody:
    """Where the user last spoke on ``channel`` (404 when unknown)."""
    info = await InProcessClient(runtime).last_channel(principal.act_as(user_id), channel)
    if info is None:
        raise NotFound(f"no {channel} channel known for {user_id!r}")
    return ChannelBody(**info.as_dict())
