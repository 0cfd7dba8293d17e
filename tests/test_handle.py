"""UploadHandle's background parts (submit_part) and PartsInFlight, against the real server."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from helpers import incomplete_uploads

from mpu_toolkit import start_upload
from mpu_toolkit._plan.sizing import MiB
from mpu_toolkit.errors import MPUError
from mpu_toolkit.handle import PartsInFlight

PART = 5 * MiB


def block(number: int) -> bytes:
    return np.random.default_rng(number).bytes(PART)


def test_parts_in_flight_sends_in_the_background_and_completes(storage_options, boto, bucket,
                                                              key):
    handle = start_upload(f"mpu://{bucket}/{key}", storage_options=storage_options)
    sending = PartsInFlight(handle, limit=2)
    for number in (3, 1, 2, 4):
        sending.put_part(number, block(number))
        assert len(sending.in_flight) <= 2  # waits for room: at most `limit` travel
    parts = sending.finish()
    assert [p.number for p in parts] == [1, 2, 3, 4]
    handle.complete(parts)
    body = boto.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == b"".join(block(n) for n in (1, 2, 3, 4))


def test_submit_part_returns_at_once_with_a_future(storage_options, bucket, key):
    handle = start_upload(f"mpu://{bucket}/{key}", storage_options=storage_options)
    future = handle.submit_part(1, block(1))
    assert future.result(timeout=60).number == 1
    assert threading.current_thread() is threading.main_thread()
    handle.abort()


def test_a_failed_part_is_raised_and_cancel_then_abort_leaves_nothing(storage_options, boto,
                                                                     bucket, key):
    handle = start_upload(f"mpu://{bucket}/{key}", storage_options=storage_options)
    sending = PartsInFlight(handle, limit=4)
    sending.put_part(1, block(1))
    sending.put_part(10_001, b"x")  # refused: part numbers go to 10,000
    with pytest.raises((MPUError, ValueError)):
        sending.finish()
    sending.abort()
    handle.abort()
    assert incomplete_uploads(boto, bucket, key) == []


def test_a_handle_resolves_its_options_once_per_process_and_keeps_them(storage_options,
                                                                       bucket, key, boto):
    import pickle

    from mpu_toolkit._plan.integrity import ChecksumMode

    so = {**storage_options, "max_attempts": 2, "concurrency": 3}
    handle = start_upload(f"mpu://{bucket}/{key}", storage_options=so, checksum="none")
    parts = handle.upload_parts([(1, block(1))]) + [handle.submit_part(2, b"end").result(60)]
    fs, upload = handle._upload()
    assert handle._upload()[1] is upload  # one upload and client for every part
    # the handle's options over the writer options of its storage options
    assert (upload.options.max_attempts, upload.options.concurrency,
            upload.options.checksum) == (2, 3, ChecksumMode.NONE)
    clone = pickle.loads(pickle.dumps(handle))  # what a worker receives
    assert clone == handle and "_kept" not in clone.__dict__
    assert clone._upload()[1] is not upload and clone._upload()[1].options == upload.options
    assert [p.number for p in clone.parts()] == [1, 2]
    clone.complete(parts)
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == block(1) + b"end"
