"""``CompanionClient`` over a gateway's HTTP API, for bots running on their own.

Uses an admin API key, which the gateway lets act for any ``user_id`` given in a path
or body (``Principal.act_as``). The gateway's error bodies (``{"error": "NotFound",
"detail": …}``) become the same ``companion.errors`` the in-process client raises.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import httpx

from companion import errors
from companion.channels.client import (
    ChannelInfo,
    CompanionItem,
    IncidentItem,
    MemoryItem,
    PersonalityView,
    ProactiveSettings,
    Status,
    SystemStatus,
)
from companion.conversation.types import TurnRequest, TurnResult

__all__ = ["RemoteClient"]


def _error(response: httpx.Response) -> errors.CompanionError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    name = str(body.get("error", "")) if isinstance(body, dict) else ""
    detail = str(body.get("detail", "")) if isinstance(body, dict) else ""
    kind = getattr(errors, name, None)
    message = detail or f"gateway answered {response.status_code}"
    if response.status_code == 429:
        retry = response.headers.get("Retry-After", "")
        return errors.RateLimited(message, retry_after=int(retry) if retry.isdigit() else 60)
    if isinstance(kind, type) and issubclass(kind, errors.CompanionError):
        try:
            return kind(message)
        except TypeError:  # an error class with required context
            pass
    if response.status_code == 404:
        return errors.NotFound(message)
    if response.status_code == 409:
        return errors.Busy(message)
    if response.status_code in (400, 422):
        return errors.InvalidInput(message)
    return (
        errors.ProviderUnavailable(message)
        if response.status_code >= 500
        else errors.CompanionError(message)
    )


def _u(user_id: str) -> str:
    return quote(user_id, safe="")


def _turn_result(data: dict[str, Any]) -> TurnResult:
    return TurnResult(
        reply=str(data.get("reply") or data.get("response") or ""),
        conversation_id=uuid.UUID(str(data["conversation_id"])),
        interaction_id=int(data.get("interaction_id") or 0),
        emotion=str(data.get("emotion", "")),
        pad_after=dict(data.get("pad_after") or {}),
        memories_used=list(data.get("memories_used") or []),
        processing_time_ms=int(data.get("processing_time_ms") or 0),
        model=str(data.get("model", "")),
        provider=str(data.get("provider", "")),
        fallback_used=bool(data.get("fallback_used", False)),
        flagged=bool(data.get("flagged", False)),
        security_action=str(data.get("security_action", "allow")),
    )


def _status(user_id: str, data: dict[str, Any]) -> Status:
    return Status(
        user_id=user_id,
        name=str(data.get("name", "Companion")),
        preset=str(data.get("preset", "")),
        emotion=str(data.get("emotion_label", "")),
        pad=dict(data.get("pad") or {}),
        urgent_needs=list(data.get("urgent_needs") or []),
    )


class RemoteClient:
    """The engine behind ``gateway_url``, reached with an admin ``api_key``."""

    def __init__(
        self,
        gateway_url: str,
        api_key: str,
        *,
        timeout: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=gateway_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
            transport=transport,
        )

    async def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise errors.ProviderTimeout("the gateway did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise errors.ProviderUnavailable(
                f"cannot reach the gateway: {type(exc).__name__}"
            ) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response.json() if response.content else None

    async def turn(self, request: TurnRequest) -> TurnResult:
        """``POST /api/chat/message`` acting for ``request.user_id``."""
        body = {
            "user_id": request.user_id,
            "message": request.text,
            "channel": request.channel,
            "external_conversation_id": request.external_conversation_id,
            "username": request.username,
            "message_external_id": request.message_external_id,
        }
        if request.conversation_id is not None:
            body["conversation_id"] = str(request.conversation_id)
        return _turn_result(await self._request("POST", "/api/chat/message", json=body))

    async def _state(self, user_id: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._request("GET", f"/api/personality/current/{_u(user_id)}")
        return data

    async def status(self, user_id: str) -> Status:
        """``GET /api/personality/current/{user_id}``."""
        return _status(user_id, await self._state(user_id))

    async def setup(self, user_id: str, preset: str) -> Status:
        """``PUT /api/personality/preset/{user_id}`` (admin key)."""
        url = f"/api/personality/preset/{_u(user_id)}"
        return _status(user_id, await self._request("PUT", url, json={"preset": preset}))

    async def companions(self, user_id: str) -> list[CompanionItem]:
        """``GET /api/companions?user_id=…``."""
        data = await self._request("GET", "/api/companions", params={"user_id": user_id})
        return [CompanionItem.from_dict(row) for row in data["items"]]

    async def switch_companion(self, user_id: str, companion_id: int) -> CompanionItem:
        """``POST /api/companions/{id}/activate?user_id=…``."""
        url = f"/api/companions/{int(companion_id)}/activate"
        data = await self._request("POST", url, params={"user_id": user_id})
        return CompanionItem.from_dict(data)

    async def memories(
        self, user_id: str, *, query: str | None = None, limit: int = 10
    ) -> list[MemoryItem]:
        """``POST /api/memory/search`` for a query, else ``GET /api/memory`` (newest)."""
        if query:
            body = {"user_id": user_id, "query": query, "k": limit}
            rows = (await self._request("POST", "/api/memory/search", json=body))["results"]
        else:
            params = {"user_id": user_id, "limit": limit}
            rows = (await self._request("GET", "/api/memory", params=params))["items"]
        return [
            MemoryItem(
                id=str(row["id"]),
                content=str(row.get("content", "")),
                memory_type=str(row.get("memory_type", "episodic")),
                created_at=row.get("created_at"),
            )
            for row in rows
        ]

    async def forget(self, user_id: str, memory_id: str | None) -> int:
        """``DELETE /api/memory[/{memory_id}]?user_id=``."""
        params = {"user_id": user_id}
        if memory_id is None:
            counts = await self._request("DELETE", "/api/memory", params=params)
            return int(counts.get("memories", 0))
        await self._request("DELETE", f"/api/memory/{quote(memory_id, safe='')}", params=params)
        return 1

    async def personality(self, user_id: str) -> PersonalityView:
        """``GET /api/personality/current/{user_id}``."""
        data = await self._state(user_id)
        return PersonalityView(
            name=str(data.get("name", "Companion")),
            preset=str(data.get("preset", "")),
            big_five=dict(data.get("big_five") or {}),
            pad=dict(data.get("pad") or {}),
            emotion=str(data.get("emotion_label", "")),
            quirks=[str(q) for q in data.get("quirks") or []],
            style=dict(data.get("style") or {}),
        )

    async def proactive(
        self,
        user_id: str,
        *,
        enabled: bool | None = None,
        quiet_hours: str | None = None,
        timezone: str | None = None,
    ) -> ProactiveSettings:
        """``GET`` or ``PATCH /api/proactive/settings?user_id=``."""
        given = {"enabled": enabled, "quiet_hours": quiet_hours, "timezone": timezone}
        changes = {k: v for k, v in given.items() if v is not None}
        params = {"user_id": user_id}
        if changes:
            data = await self._request(
                "PATCH", "/api/proactive/settings", params=params, json=changes
            )
        else:
            data = await self._request("GET", "/api/proactive/settings", params=params)
        return ProactiveSettings(
            enabled=bool(data.get("enabled", True)),
            quiet_hours=data.get("quiet_hours"),
            timezone=str(data.get("timezone", "UTC")),
        )

    async def reset(self, user_id: str, *, conversation: str | None = None) -> None:
        """``POST /api/chat/reset`` (short-term context only)."""
        body = {"user_id": user_id, "external_conversation_id": conversation}
        await self._request("POST", "/api/chat/reset", json=body)

    async def export(self, user_id: str) -> dict[str, Any]:
        """``GET /api/memory/export?user_id=``."""
        params = {"user_id": user_id}
        data: dict[str, Any] = await self._request("GET", "/api/memory/export", params=params)
        return data

    async def delete_user(self, user_id: str) -> dict[str, int]:
        """``DELETE /api/users/{user_id}``."""
        data = await self._request("DELETE", f"/api/users/{_u(user_id)}")
        return {str(k): int(v) for k, v in dict(data.get("removed") or {}).items()}

    async def remember_channel(self, user_id: str, info: ChannelInfo) -> None:
        """``PUT /api/channels/{user_id}/{channel}``."""
        url = f"/api/channels/{_u(user_id)}/{info.channel}"
        await self._request("PUT", url, json=info.as_dict())

    async def last_channel(self, user_id: str, channel: str) -> ChannelInfo | None:
        """``GET /api/channels/{user_id}/{channel}`` (404: none known)."""
        try:
            data = await self._request("GET", f"/api/channels/{_u(user_id)}/{channel}")
        except errors.NotFound:
            return None
        return ChannelInfo.from_dict(channel, data) if isinstance(data, dict) else None

    async def system_status(self) -> SystemStatus:
        """``GET /api/admin/stats`` and the chat chain from ``GET /health/detailed``."""
        counts = await self._request("GET", "/api/admin/stats")
        health = await self._request("GET", "/health/detailed")
        chain = ((health or {}).get("components", {}).get("llm", {}) or {}).get("chat", {})
        return SystemStatus(
            users=int(counts.get("users") or 0),
            turns_last_5_minutes=int(counts.get("interactions_5m") or 0),
            turns_last_24h=int(counts.get("interactions_24h") or 0),
            errors_last_24h=int(counts.get("errors_24h") or 0),
            models=[f"{p['id']}:{p['model']}" for p in chain.get("providers", [])],
        )

    async def incidents(self, *, limit: int = 10) -> list[IncidentItem]:
        """``GET /api/admin/security/incidents?limit=``."""
        rows = await self._request("GET", "/api/admin/security/incidents", params={"limit": limit})
        return [
            IncidentItem(
                id=int(row["id"]),
                user_id=str(row.get("user_id", "")),
                category=str(row.get("category", "")),
                confidence=float(row.get("confidence") or 0.0),
                action=str(row.get("action") or ""),
                content=str(row.get("content") or ""),
                detected_at=str(row.get("detected_at", "")),
            )
            for row in rows
        ]

    async def claim_deliveries(
        self, channel: str, *, worker: str, wait_seconds: float = 25.0
    ) -> list[dict[str, Any]]:
        """``POST /api/admin/deliveries/claim``: queued messages for ``channel`` (long poll)."""
        body = {"channel": channel, "worker": worker, "wait_seconds": wait_seconds}
        data = await self._request("POST", "/api/admin/deliveries/claim", json=body)
        return list(data or [])

    async def report_delivery(
        self, delivery_id: int, *, delivered: bool, via: str | None, detail: str
    ) -> None:
        """``POST /api/admin/deliveries/{id}/result``."""
        body = {"delivered": delivered, "via": via, "detail": detail[:2000]}
        await self._request("POST", f"/api/admin/deliveries/{delivery_id}/result", json=body)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()
