"""An asyncio loopback server that writes raw HTTP/1.1 bytes, for tests of how a client
reads streams: bodies split at odd places, chunked transfer, kept-alive connections.

``tests/fakes/_http.py`` answers with whole, well-formed responses; this one lets a
subclass write exactly the bytes a test needs. It reads each request (headers and a
``Content-Length`` body), counts connections and requests, and calls ``answer``; the
connection is kept for the next request unless ``answer`` returns False.
"""

from __future__ import annotations

import asyncio

__all__ = ["RawSSEServer"]


class RawSSEServer:
    """Subclasses implement ``answer(writer) -> bool`` (True keeps the connection)."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        """Listen on a free loopback port; the OpenAI-style base URL."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/v1"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def answer(self, writer: asyncio.StreamWriter) -> bool:
        raise NotImplementedError

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            keep = True
            while keep:
                header = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in header.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                self.requests += 1
                keep = await self.answer(writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
