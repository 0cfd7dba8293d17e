"""Filling part buffers: copy_into puts the bytes exactly where asked, below and above the
size from which numpy's GIL-free loop does the copy, from bytes, bytearrays and views."""

from __future__ import annotations

import os

import pytest

from mpu_toolkit._engine.buffers import _GIL_FREE_COPY, copy_into


@pytest.mark.parametrize("size", [1, _GIL_FREE_COPY - 1, _GIL_FREE_COPY, 3 * _GIL_FREE_COPY + 5])
@pytest.mark.parametrize("offset", [0, 7])
@pytest.mark.parametrize("kind", [bytes, bytearray, "view-slice"])
def test_copies_exactly_there_and_nowhere_else(size, offset, kind):
    source = os.urandom(size + 11)
    data = (memoryview(source)[5:5 + size] if kind == "view-slice"
            else memoryview(kind(source[5:5 + size])))
    buffer = bytearray(b"\xee" * (offset + size + 13))
    copy_into(buffer, offset, data)
    assert buffer[offset:offset + size] == source[5:5 + size]
    assert buffer[:offset] == b"\xee" * offset and buffer[offset + size:] == b"\xee" * 13


def test_a_large_copy_past_the_buffer_is_refused():
    with pytest.raises(ValueError):
        copy_into(bytearray(_GIL_FREE_COPY), 1, memoryview(bytes(_GIL_FREE_COPY)))
