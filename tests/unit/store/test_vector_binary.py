"""The vector column's binary form: pgvector's header and every component's 4-byte float."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from pgvector import Vector as PgVector

from companion.store.vector import Vector, decode_binary, encode_binary


def test_each_component_reads_back_as_the_same_4_byte_float() -> None:
    rng = np.random.default_rng(7)
    for scale in (1e-8, 1e-3, 1.0, 1e6):
        vectors = (rng.standard_normal((50, 384)) * scale).astype(np.float32)
        for row in vectors:
            for sent in (row, row.tolist(), tuple(row.tolist())):
                back = decode_binary(encode_binary(sent))
                assert back.dtype == np.float32
                assert np.array_equal(back, row)


def test_pgvectors_own_binary_form() -> None:
    row = np.random.default_rng(3).standard_normal(384).astype(np.float32)
    ours = encode_binary(row.tolist())
    assert ours == encode_binary(row) == PgVector(row.tolist()).to_binary()
    assert struct.unpack_from(">HH", ours) == (384, 0)
    assert np.array_equal(PgVector.from_binary(ours).to_numpy(), row)


def test_doubles_round_to_the_nearest_4_byte_float() -> None:
    doubles = np.random.default_rng(5).standard_normal(384)
    expected = doubles.astype(np.float32)
    assert np.array_equal(decode_binary(encode_binary(doubles.tolist())), expected)
    assert np.array_equal(decode_binary(encode_binary(doubles)), expected)


def test_text_pgvector_values_and_other_lengths() -> None:
    assert np.array_equal(decode_binary(encode_binary("[1, 2.5,-3]")), [1.0, 2.5, -3.0])
    assert np.array_equal(decode_binary(encode_binary(PgVector([3.0, 0.5]))), [3.0, 0.5])
    assert decode_binary(encode_binary([])).shape == (0,)
    assert np.array_equal(decode_binary(encode_binary([0.5] * 1536)), [0.5] * 1536)


def test_a_component_beyond_4_byte_floats_is_refused() -> None:
    with pytest.raises(OverflowError):
        encode_binary([1e40, 0.0])


def test_the_column_passes_values_to_the_codec_and_reads_lists() -> None:
    column = Vector()
    assert column.bind_processor(None) is None  # type: ignore[arg-type]
    read = column.result_processor(None, None)  # type: ignore[arg-type]
    assert read(None) is None
    assert read(np.array([0.25, -2.0], dtype=np.float32)) == [0.25, -2.0]
    assert read("[0.25,-2]") == [0.25, -2.0]  # a connection without the codec
