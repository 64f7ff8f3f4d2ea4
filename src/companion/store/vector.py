"""The ``vector`` column type: pgvector's, sent and read in binary on our connections.

Every pooled connection gets a binary codec for pgvector's ``vector``
(``register_codec``, run when the connection opens): a vector travels as its 4-byte
floats, big-endian, behind pgvector's 4-byte header (``vector_send``/``vector_recv``),
so neither side formats or parses 384 numbers as text. A vector is sent from a list
(one ``struct`` call), a numpy array (one ``astype``), a pgvector ``Vector`` or
pgvector's text form (parsed first: ``CAST(:v AS vector)`` with a string still
works), and read as a numpy ``float32`` array; the ORM column gives lists, as
pgvector's type did. The server's text form is unchanged (psql, dumps, tools).

Registered when a connection opens and, if pgvector was not installed then (a
connection opened before the migrations), again at each checkout until it is; a
connection without it could send vectors only as text.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import numpy as np
from pgvector import Vector as PgVector
from pgvector.sqlalchemy import VECTOR
from sqlalchemy import Dialect

__all__ = ["Vector", "decode_binary", "encode_binary", "register_codec"]


#: pgvector's binary header: the dimension and a reserved zero, two big-endian uint16.
_HEADER = struct.Struct(">HH")
#: The header and the components of a vector of each length seen so far.
_PACKS: dict[int, struct.Struct] = {}
_BIG_ENDIAN_F4 = np.dtype(">f4")


def _parse_text(value: str) -> list[float]:
    """pgvector's text form (``[1,2.5,…]``) as floats."""
    inner = value.strip()[1:-1].strip()
    return [float(x) for x in inner.split(",")] if inner else []


def encode_binary(value: Any) -> bytes:
    """``value`` (a list or other sequence of numbers, a numpy array, a pgvector
    ``Vector`` or pgvector's text form) in pgvector's binary form; each component is
    rounded to its nearest 4-byte float, as the server does with text. The server
    checks the rest (dimension, finite components) as it does for text.
    """
    if isinstance(value, PgVector):
        value = value.to_numpy()
    elif isinstance(value, str):
        value = _parse_text(value)
    if isinstance(value, np.ndarray):
        flat = value.ravel()
        return _HEADER.pack(flat.shape[0], 0) + flat.astype(_BIG_ENDIAN_F4, copy=False).tobytes()
    size = len(value)
    pack = _PACKS.get(size)
    if pack is None:
        pack = _PACKS.setdefault(size, struct.Struct(f">HH{size}f"))
    return pack.pack(size, 0, *value)


def decode_binary(data: bytes) -> np.ndarray[Any, np.dtype[np.float32]]:
    """pgvector's binary form as a (writable) numpy ``float32`` array."""
    size, _ = _HEADER.unpack_from(data)
    return np.frombuffer(data, dtype=_BIG_ENDIAN_F4, count=size, offset=4).astype(np.float32)


#: Where pgvector is looked for first (``CREATE EXTENSION vector`` puts it in the first
#: schema of the search path, ``public`` by default); otherwise its extension says.
_USUAL_SCHEMA = "public"
_EXTENSION_SCHEMA = (
    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname = 'vector'"
)


async def register_codec(conn: Any) -> bool:
    """Give the asyncpg connection ``conn`` the binary ``vector`` codec; False when the
    database has no ``vector`` type (yet). One round trip when pgvector is in
    ``public``, three otherwise."""
    try:
        await _set_codec(conn, _USUAL_SCHEMA)
    except ValueError:  # asyncpg: unknown type
        schema = await conn.fetchval(_EXTENSION_SCHEMA)
        if schema is None:
            return False
        await _set_codec(conn, schema)
    return True


async def _set_codec(conn: Any, schema: str) -> None:
    await conn.set_type_codec(
        "vector", schema=schema, encoder=encode_binary, decoder=decode_binary, format="binary"
    )


class Vector(VECTOR):
    """pgvector's ``VECTOR`` whose values go to the connection's binary codec as they
    are, and that reads a vector as a list of floats (from binary or text)."""

    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        return None  # lists, arrays, pgvector values and text: ``encode_binary``

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any]:
        def process(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, np.ndarray):
                return value.tolist()
            return _parse_text(value)

        return process
