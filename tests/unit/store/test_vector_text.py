"""The vector column's text form: every component names the same 4-byte float."""

from __future__ import annotations

import numpy as np
from pgvector import Vector as PgVector
from pgvector.sqlalchemy import VECTOR

from companion.store.vector import Vector, vector_text


def _parsed(text: str) -> np.ndarray:
    assert text.startswith("[") and text.endswith("]")
    return np.array(text[1:-1].split(","), dtype=np.float32)


def test_each_component_reads_back_as_the_same_4_byte_float() -> None:
    rng = np.random.default_rng(7)
    for scale in (1e-8, 1e-3, 1.0, 1e6):
        vectors = (rng.standard_normal((200, 384)) * scale).astype(np.float32)
        for row in vectors:
            assert np.array_equal(_parsed(vector_text(row.tolist())), row)


def test_the_same_floats_as_pgvector_sends_in_fewer_characters() -> None:
    row = np.random.default_rng(3).standard_normal(384).astype(np.float32)
    theirs = VECTOR().bind_processor(None)(row.tolist())  # type: ignore[arg-type]
    ours = Vector().bind_processor(None)(row.tolist())  # type: ignore[arg-type]
    assert np.array_equal(_parsed(ours), _parsed(theirs))
    assert len(ours) < 0.8 * len(theirs)


def test_lists_arrays_pgvector_values_text_and_none() -> None:
    send = Vector().bind_processor(None)  # type: ignore[arg-type]
    assert send(None) is None
    assert send("[1,2]") == "[1,2]"
    assert send([1.0, 0.5]) == "[1,0.5]"
    assert send(np.array([0.25, -2.0])) == "[0.25,-2]"
    assert send(PgVector([3.0, 0.1])) == vector_text([3.0, 0.1]) == "[3,0.100000001]"
