"""PNG text chunks with the standard library: read ``tEXt`` chunks, write a PNG with
one added, and draw a plain placeholder image when a card has none."""

from __future__ import annotations

import struct
import zlib

from companion.errors import InvalidInput

__all__ = ["SIGNATURE", "add_text_chunks", "placeholder_png", "read_text_chunks"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not data.startswith(SIGNATURE):
        raise InvalidInput("file: not a PNG image")
    pos, out = len(SIGNATURE), []
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length:
            raise InvalidInput("file: truncated PNG chunk")
        out.append((kind, body))
        pos += 12 + length
        if kind == b"IEND":
            break
    return out


def read_text_chunks(data: bytes) -> dict[str, str]:
    """``tEXt`` keyword → text (Latin-1, as the PNG spec says; cards keep it ASCII)."""
    found: dict[str, str] = {}
    for kind, body in _chunks(data):
        if kind == b"tEXt" and b"\x00" in body:
            key, _, text = body.partition(b"\x00")
            found[key.decode("latin-1")] = text.decode("latin-1")
    return found


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def add_text_chunks(data: bytes, texts: dict[str, str]) -> bytes:
    """``data`` with its ``tEXt`` chunks of the same keywords replaced by ``texts``."""
    out = [SIGNATURE]
    for kind, body in _chunks(data):
        if kind == b"tEXt" and body.partition(b"\x00")[0].decode("latin-1") in texts:
            continue
        if kind == b"IEND":
            for key, text in texts.items():
                out.append(_chunk(b"tEXt", key.encode("latin-1") + b"\x00" + text.encode()))
        out.append(_chunk(kind, body))
    return b"".join(out)


def placeholder_png(size: int = 64, rgb: tuple[int, int, int] = (96, 120, 160)) -> bytes:
    """A plain ``size``×``size`` RGB image."""
    row = b"\x00" + bytes(rgb) * size
    raw = zlib.compress(row * size)
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", raw) + _chunk(b"IEND", b"")
