"""Writer options given in ``storage_options`` reach every entry point's requests.

``max_attempts=1`` in ``storage_options``: one transient 503 (injected by the fault proxy in
front of the real server) fails the call; without it the request is retried and the call
succeeds. ``checksum="none"`` in ``storage_options``: no Content-MD5 leaves the client
(recorded on the wire by a before-send hook on the filesystem's own client); without it
every request with a body carries one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pytest
from helpers import Wire, object_exists

import mpu_toolkit
from mpu_toolkit import MPUFileSystem
from mpu_toolkit._plan.sizing import MiB
from mpu_toolkit.errors import TransientS3Error

ONE_PART = 6 * MiB  #: one whole part at the default part size (so one UploadPart)


@dataclass(frozen=True)
class Entry:
    """One entry point: what it does, the request a 503 hits, the request that has a body."""

    name: str
    run: Callable[[dict[str, Any], str, Any, Any], Any]  #: (so, url, boto, tmp_path)
    fails_on: str
    body_on: str | None  #: None: the entry sends no bytes (a server-side copy)


def _bucket_key(url: str) -> tuple[str, str]:
    bucket, _, key = url.removeprefix("mpu://").partition("/")
    return bucket, key


def _open_writer(so: dict[str, Any], url: str, boto: Any, tmp: Any) -> Any:
    with mpu_toolkit.open_writer(url, storage_options=so) as f:
        f.write(b"w" * ONE_PART)


def _fs_open(so: dict[str, Any], url: str, boto: Any, tmp: Any) -> Any:
    with MPUFileSystem(**so).open(url, "wb") as f:
        f.write(b"f" * ONE_PART)


def _handle(so: dict[str, Any], url: str, boto: Any, tmp: Any) -> Any:
    handle = mpu_toolkit.start_upload(url, storage_options=so)
    try:
        return handle.upload_part(1, b"h" * 1024)
    finally:
        handle.abort()


def _upload_file(so: dict[str, Any], url: str, boto: Any, tmp: Any) -> Any:
    path = tmp / "local.bin"
    path.write_bytes(b"u" * 1024)  # one PutObject
    return mpu_toolkit.upload_file(path, url, storage_options=so)


def _copy(so: dict[str, Any], url: str, boto: Any, tmp: Any) -> Any:
    bucket, key = _bucket_key(url)
    boto.put_object(Bucket=bucket, Key=key + ".src", Body=b"c" * 1024)
    return mpu_toolkit.copy(url + ".src", url, storage_options=so)


def _compose(so: dict[str, Any], url: str, boto: Any, tmp: Any) -> Any:
    bucket, key = _bucket_key(url)
    for i in range(2):
        boto.put_object(Bucket=bucket, Key=f"{key}.{i}", Body=b"%d" % i * 1024)
    return mpu_toolkit.compose([f"{url}.0", f"{url}.1"], url, storage_options=so)


def _frame(partitions: int) -> Any:
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    return dd.from_pandas(pd.DataFrame({"a": range(100), "b": ["x"] * 100}),
                          npartitions=partitions)


def _to_single_object(so: dict[str, Any], url: str, boto: Any, tmp: Any) -> Any:
    import dask

    with dask.config.set(scheduler="threads"):
        return mpu_toolkit.to_single_object(_frame(2), url + ".csv", storage_options=so)


def _to_dataset(so: dict[str, Any], url: str, boto: Any, tmp: Any) -> Any:
    import dask

    with dask.config.set(scheduler="threads"):
        return mpu_toolkit.to_dataset(_frame(1), url, format="csv", storage_options=so)


ENTRIES = [
    Entry("open_writer", _open_writer, "UploadPart", "UploadPart"),
    Entry("fs.open", _fs_open, "UploadPart", "UploadPart"),
    Entry("start_upload+handle", _handle, "UploadPart", "UploadPart"),
    Entry("upload_file", _upload_file, "PutObject", "PutObject"),
    Entry("copy", _copy, "CopyObject", None),
    Entry("compose", _compose, "PutObject", "PutObject"),
    Entry("to_single_object", _to_single_object, "UploadPart", "UploadPart"),
    # the job's commit: Complete and the _SUCCESS marker come from dask/job_commit.py
    Entry("to_dataset", _to_dataset, "CompleteMultipartUpload", "PutObject"),
]
_IDS = [e.name for e in ENTRIES]


def _proxied(proxy: Any, storage_options: dict[str, Any], **options: Any) -> dict[str, Any]:
    # a new endpoint per test: a new (fsspec-cached) filesystem, shared by every layer
    return {**storage_options, "endpoint_url": proxy.endpoint_url, **options}


@pytest.mark.parametrize("entry", ENTRIES, ids=_IDS)
def test_max_attempts_in_storage_options_fails_on_one_503(entry, proxy, storage_options,
                                                          bucket, key, boto, tmp_path):
    proxy.fail(entry.fails_on, "503", times=1)
    so = _proxied(proxy, storage_options, max_attempts=1)
    with pytest.raises(TransientS3Error) as info:
        entry.run(so, f"mpu://{bucket}/{key}", boto, tmp_path)
    assert entry.fails_on in str(info.value)
    assert proxy.injected == [f"{entry.fails_on}:503"]
    assert proxy.seen.count(entry.fails_on) == 1  # each entry sends one: not sent again


@pytest.mark.parametrize("entry", ENTRIES, ids=_IDS)
def test_without_max_attempts_one_503_is_retried(entry, proxy, storage_options, bucket, key,
                                                 boto, tmp_path):
    proxy.fail(entry.fails_on, "503", times=1)
    entry.run(_proxied(proxy, storage_options), f"mpu://{bucket}/{key}", boto, tmp_path)
    assert proxy.injected == [f"{entry.fails_on}:503"]
    assert proxy.seen.count(entry.fails_on) >= 2  # the failed try, then the retry


BODY_ENTRIES = [e for e in ENTRIES if e.body_on is not None]


@pytest.mark.parametrize("checksum", [None, "none"])
@pytest.mark.parametrize("entry", BODY_ENTRIES, ids=[e.name for e in BODY_ENTRIES])
def test_checksum_in_storage_options_reaches_the_wire(entry, checksum, proxy, storage_options,
                                                      bucket, key, boto, tmp_path):
    so = _proxied(proxy, storage_options, **({"checksum": checksum} if checksum else {}))
    wire = Wire(MPUFileSystem(**so))  # the instance every layer gets for these options
    entry.run(so, f"mpu://{bucket}/{key}", boto, tmp_path)
    bodies = wire.headers_of(entry.body_on)
    assert bodies, f"no {entry.body_on} was sent"
    with_md5 = ["content-md5" in h for h in bodies]
    assert with_md5 == [checksum is None] * len(bodies)


def test_copy_sends_no_bytes_so_no_checksum(proxy, storage_options, bucket, key, boto,
                                            tmp_path):
    """Why copy is not in the checksum matrix: its only request carries no body."""
    so = _proxied(proxy, storage_options)
    wire = Wire(MPUFileSystem(**so))
    _copy(so, f"mpu://{bucket}/{key}", boto, tmp_path)
    assert [op for op, _ in wire.sent if op != "HeadObject"] == ["CopyObject"]
    assert object_exists(boto, bucket, key)
