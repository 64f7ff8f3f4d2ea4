"""FastAPI dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from companion.api.auth import Principal, authenticate
from companion.conversation.pipeline import ConversationService
from companion.errors import ConfigError
from companion.runtime import Runtime

__all__ = [
    "AdminDep",
    "ConversationDep",
    "PrincipalDep",
    "RuntimeDep",
    "SessionDep",
    "get_principal",
    "get_runtime",
    "get_session",
    "runtime_of",
]


def runtime_of(request: Request) -> Runtime:
    """The process's runtime, attached to the app at startup.

    The dependencies on every turn read it through this call rather than by depending
    on ``get_runtime``: FastAPI walks a sub-dependency's parameters again under each
    dependency that names it, even when its value is cached for the request, and each
    walk is a measurable share of the front's CPU per request.
    """
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    """The process's runtime, attached to the app at startup."""
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """A database session committed when the request succeeds."""
    async with runtime.db.transaction() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_principal(request: Request) -> Principal:
    """The authenticated caller (401 otherwise)."""
    principal = await authenticate(request, runtime_of(request))
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def require_admin(principal: PrincipalDep) -> Principal:
    """The caller, who must be an admin (403 otherwise)."""
    principal.require_admin()
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]


async def get_conversation_service(request: Request) -> ConversationService:
    """The process's turn pipeline."""
    service = runtime_of(request).conversation
    if not isinstance(service, ConversationService):
        raise ConfigError("conversation", "the turn pipeline is not wired in this process")
    return service


ConversationDep = Annotated[ConversationService, Depends(get_conversation_service)]
