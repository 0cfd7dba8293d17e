"""Filling part buffers: copy_into puts the bytes exactly where asked, below and above the
size from which it is a GIL-free memmove, from bytes, bytearrays and views; and the large copy
does let another thread run."""

from __future__ import annotations

import os
import sys
import threading
import time

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


def test_a_read_only_view_of_other_objects_is_copied_too():
    source = memoryview(os.urandom(3 * _GIL_FREE_COPY)).toreadonly()[_GIL_FREE_COPY:]
    buffer = bytearray(len(source))
    copy_into(buffer, 0, source)
    assert buffer == source


def test_a_strided_view_is_refused_not_copied_wrong():
    strided = memoryview(bytearray(4 * _GIL_FREE_COPY))[::2]
    with pytest.raises(BufferError):
        copy_into(bytearray(2 * _GIL_FREE_COPY), 0, strided)


def _other_thread_ran_during(copy) -> bool:
    """Whether a spinning thread got the GIL while ``copy()`` ran. The switch interval is long,
    so a copy holding the GIL (milliseconds) never lets it; one releasing the GIL does."""
    counter, stop = [0], threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1.0)
    spinner = threading.Thread(target=spin)
    try:
        spinner.start()
        time.sleep(0.01)  # the spinner has the GIL; we get it back at a forced switch
        before = counter[0]
        copy()
        return counter[0] != before
    finally:
        stop.set()
        spinner.join()
        sys.setswitchinterval(interval)


def test_a_large_copy_lets_other_threads_run_a_slice_assignment_does_not():
    # 256 MiB: tens of milliseconds, for the spinner to be scheduled even on a busy machine
    source = memoryview(b"\x01" * (256 * 1024 * 1024))
    buffer = bytearray(len(source))
    assert _other_thread_ran_during(lambda: copy_into(buffer, 0, source))
    # the control, so that this test can fail: the same bytes, a copy that holds the GIL
    small = source[:32 * 1024 * 1024]
    assert not _other_thread_ran_during(lambda: buffer.__setitem__(slice(0, len(small)), small))
