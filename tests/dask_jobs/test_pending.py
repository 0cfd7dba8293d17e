"""PartSink, the bytes of one pending file, against the real server (no cluster needed): parts
of ``part_size`` as the bytes come, at most ``_PARTS_IN_FLIGHT`` travelling, the rest as the
last part, and an abort that leaves nothing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import incomplete_uploads

from mpu_toolkit._plan.sizing import MiB
from mpu_toolkit.dask import pending
from mpu_toolkit.dask.pending import DatasetSpec, JobStopped, PartSink, StopSignal
from mpu_toolkit.formats.text import TextFiles

PART = 5 * MiB


def spec(storage_options: dict[str, Any], url: str) -> DatasetSpec:
    encoding = TextFiles(render=lambda frame, first: b"", codec=None)
    return DatasetSpec(url=url.rsplit("/", 1)[0], encoding=encoding, extension=".csv",
                       partition_on=(),
                       part_size=PART, storage_options=storage_options, writer_options={})


def test_bytes_become_parts_with_a_bounded_number_in_flight(storage_options, boto, bucket, key):
    url = f"mpu://{bucket}/{key}"
    data = np.random.default_rng(7).bytes(6 * PART + 123)
    sink = PartSink(url, spec(storage_options, url), StopSignal("pending-test-1"))
    peak = 0
    for start in range(0, len(data), 3 * MiB + 17):  # writes that straddle the parts
        sink.write(data[start:start + 3 * MiB + 17])
        if sink._sending is not None:  # started with the first full part
            peak = max(peak, len(sink._sending.in_flight))
    assert 1 <= peak <= pending._PARTS_IN_FLIGHT
    handle, parts = sink.finish()
    assert [(p.number, p.size) for p in parts] == [(n, PART) for n in range(1, 7)] + [(7, 123)]
    assert sink.size == len(data)
    handle.complete(parts)
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_an_empty_file_is_one_empty_part(storage_options, boto, bucket, key):
    url = f"mpu://{bucket}/{key}"
    sink = PartSink(url, spec(storage_options, url), StopSignal("pending-test-2"))
    handle, parts = sink.finish()
    assert [(p.number, p.size) for p in parts] == [(1, 0)]
    handle.complete(parts)
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == b""


def test_a_stopped_job_stops_at_the_next_part_and_abort_leaves_nothing(storage_options, boto,
                                                                     bucket, key):
    url = f"mpu://{bucket}/{key}"
    stop = StopSignal("pending-test-3")
    sink = PartSink(url, spec(storage_options, url), stop)
    sink.write(np.random.default_rng(8).bytes(2 * PART))  # two parts on their way
    assert sink.handle is not None and len(incomplete_uploads(boto, bucket, key)) == 1
    stop.set()
    try:
        with pytest.raises(JobStopped):
            sink.write(b"x" * PART)
        assert "aborted" in (sink.abort() or "")
    finally:
        stop.clear()
    assert sink._sending is not None and sink._sending.in_flight == {}
    assert incomplete_uploads(boto, bucket, key) == []


def test_abort_before_any_part_started_nothing(storage_options, bucket, key):
    url = f"mpu://{bucket}/{key}"
    sink = PartSink(url, spec(storage_options, url), StopSignal("pending-test-4"))
    sink.write(b"a few bytes")  # less than a part: no upload yet
    assert sink.handle is None and sink.abort() is None
