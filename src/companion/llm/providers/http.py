"""The HTTP client the hosted providers share: aiohttp, keep-alive, JSON in, SSE lines out.

Why aiohttp and not httpx: a streamed chat completion cost ~4,000 Python calls through
httpx (1,300 of them in httpx, httpcore, h11 and anyio) and ~900 through aiohttp, which
parses HTTP in C: ~0.6 ms less CPU a request (docs/BENCHMARKS.md, "Seventh session: the
model and Redis clients"; ``companion bench clients``). Timeouts are httpx's:
``timeout`` seconds to get a connection and between two reads of the response, none
for the whole (a long stream may take minutes).

A session belongs to the event loop it was made on, so it is made on first use,
inside the running loop, and made again if a later call runs on another loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from yarl import URL

__all__ = ["HttpClient", "lines"]

_JSON = {"Content-Type": "application/json"}


class HttpClient:
    """Requests to one base URL with fixed headers (the key), over kept-alive connections."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float) -> None:
        self._base = base_url.rstrip("/")
        self._headers = headers
        self._timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        self._urls: dict[str, URL] = {}
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self._base + path)
        return url

    def _current(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=self._timeout,
                # Proxy settings from the environment, as httpx read them.
                trust_env=True,
                # Model APIs set no cookies worth keeping; skipping the jar saves work.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._loop = loop
        return self._session

    async def get(self, path: str) -> tuple[int, bytes]:
        """``GET``: the status and the whole body."""
        async with self._current().get(self._url(path)) as response:
            return response.status, await response.read()

    async def post(self, path: str, body: Any) -> tuple[int, bytes]:
        """``POST`` a JSON body: the status and the whole body."""
        async with self._current().post(
            self._url(path), data=json.dumps(body).encode(), headers=_JSON
        ) as response:
            return response.status, await response.read()

    @asynccontextmanager
    async def stream(self, path: str, body: Any) -> AsyncIterator[aiohttp.ClientResponse]:
        """``POST`` a JSON body and hold the response open to read it as it comes
        (``lines``). A response read to its end leaves its connection to the next call."""
        async with self._current().post(
            self._url(path), data=json.dumps(body).encode(), headers=_JSON
        ) as response:
            yield response

    async def aclose(self) -> None:
        """Close the connections (a session made on a loop that is gone is dropped)."""
        session, self._session = self._session, None
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()


async def lines(response: aiohttp.ClientResponse) -> AsyncIterator[str]:
    """The response body's non-blank lines as they arrive (Server-Sent Events), without
    their line ends; each network read is split at once rather than a line at a time."""
    rest = b""
    async for chunk in response.content.iter_any():
        *complete, rest = (rest + chunk).split(b"\n")
        for line in complete:
            if line and line != b"\r":
                yield line.rstrip(b"\r").decode()
    if rest.strip():
        yield rest.rstrip(b"\r").decode()
