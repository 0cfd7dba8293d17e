"""The fault matrix of every public operation beyond the streaming write (which
``test_fault_matrix.py`` covers): copy, compose, file uploads and resume, the picklable
upload handle, the inventory (list, usage, parts, abort), lifecycle rules, a read through
``mpu://``, and the ``mpu`` command. Each request an operation makes is failed through a
proxy on 127.0.0.1 with 500, 503, a reset, a stall or a lost answer, on the first two tries
(transient) or on every try (permanent).

* transient: the operation ends in the right result, as if nothing happened;
* permanent: one clear error naming the request; no object, no upload and no compose
  temporary is left — except where the server did the work and only its answers were lost
  (then the result is confirmed by reading it back and reported as the success it was), and
  the cells S3 makes impossible, each marked below with the reason and what is checked
  instead.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
from helpers import Mpu, incomplete_uploads, object_exists

import mpu_toolkit
from mpu_toolkit import MPUError, uploads
from mpu_toolkit._plan.sizing import MiB, PartLimits

ATTEMPTS = 3
FAULTS = ["500", "503", "reset", "stall", "drop-response"]
TIMES = {"transient": 2, "permanent": 10_000}
SMALL, PART = 300 * 1024, 5 * MiB
#: requests that change the server: when every answer is lost, the server still did it
LOST_ANSWER_DONE = {"CompleteMultipartUpload", "PutObject", "CopyObject",
                    "PutBucketLifecycle", "DeleteBucketLifecycle", "AbortMultipartUpload",
                    "DeleteObject"}


@dataclass
class Cell:
    """One cell: the proxy, the operation's storage options through it, server access."""

    proxy: Any
    so: dict[str, Any]           #: through the proxy
    direct: dict[str, Any]       #: straight to the server (for preparing state)
    boto: Any
    bucket: str
    key: str
    tmp: Any
    mpu: Mpu
    server: Any
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"mpu://{self.bucket}/{self.key}"

    def put(self, key: str, data: bytes) -> bytes:
        self.boto.put_object(Bucket=self.bucket, Key=key, Body=data)
        return data

    def body(self, key: str | None = None) -> bytes:
        return self.boto.get_object(Bucket=self.bucket, Key=key or self.key)["Body"].read()

    def start(self, key: str | None = None, parts: int = 0) -> str:
        """An incomplete upload made with the independent client (``parts`` of 5 MiB)."""
        key = key or self.key
        upload_id = self.boto.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        for n in range(1, parts + 1):
            self.boto.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                  PartNumber=n, Body=self.state["data"][(n - 1) * PART:n * PART])
        return upload_id

    def cli(self, *args: str) -> Any:
        return self.mpu(*args, "--max-attempts", str(ATTEMPTS), "--cli-read-timeout", "1",
                        endpoint=self.proxy.endpoint_url)


@dataclass(frozen=True)
class Row:
    """A public operation: what it needs on the server, the call, and what must hold."""

    name: str
    requests: tuple[str, ...]
    run: Callable[[Cell], Any]
    succeeded: Callable[[Cell, Any], None]
    prepare: Callable[[Cell], None] = lambda cell: None
    #: after a permanent fault (the error already checked): nothing left, by default
    left: Callable[[Cell], None] = lambda cell: nothing_left(cell)
    cli: bool = False


def nothing_left(cell: Cell, key: str | None = None) -> None:
    key = key or cell.key
    assert not object_exists(cell.boto, cell.bucket, key)
    assert incomplete_uploads(cell.boto, cell.bucket, key) == []


# -- copy and compose ----------------------------------------------------------------------

def prepare_source(size: int) -> Callable[[Cell], None]:
    def prepare(cell: Cell) -> None:
        cell.state["data"] = cell.put(f"{cell.key}.src", os.urandom(size))
    return prepare


def copied(cell: Cell, result: Any) -> None:
    assert cell.body() == cell.state["data"]


def prepare_shards(sizes: list[int]) -> Callable[[Cell], None]:
    def prepare(cell: Cell) -> None:
        cell.state["sources"] = [f"{cell.key}.src{i}" for i in range(len(sizes))]
        cell.state["data"] = b"".join(cell.put(k, os.urandom(n))
                                      for k, n in zip(cell.state["sources"], sizes))
    return prepare


def compose(cell: Cell, **options: Any) -> Any:
    return mpu_toolkit.compose([f"mpu://{cell.bucket}/{k}" for k in cell.state["sources"]],
                               cell.url, storage_options=cell.so, part_size=PART, **options)


def no_temporaries(cell: Cell) -> None:
    listed = cell.boto.list_objects_v2(Bucket=cell.bucket, Prefix=f"{cell.key}.mpu-compose-")
    assert listed.get("KeyCount", 0) == 0


# -- files, handles ---------------------------------------------------------------------------

def prepare_file(size: int) -> Callable[[Cell], None]:
    def prepare(cell: Cell) -> None:
        cell.state["data"] = os.urandom(size)
        cell.state["path"] = cell.tmp / "local.bin"
        cell.state["path"].write_bytes(cell.state["data"])
    return prepare


def upload(cell: Cell, **options: Any) -> Any:
    return mpu_toolkit.upload_file(cell.state["path"], cell.url, storage_options=cell.so,
                                   part_size=PART, **options)


def prepare_interrupted(cell: Cell) -> None:
    prepare_file(3 * PART + 100)(cell)
    cell.state["upload_id"] = cell.start(parts=1)


def resumed(cell: Cell, result: Any) -> None:
    assert result.resumed and result.upload_id == cell.state["upload_id"]
    copied(cell, result)
    assert incomplete_uploads(cell.boto, cell.bucket, cell.key) == []


def kept_for_resume(cell: Cell) -> None:
    """By design: a resumable upload that fails keeps its parts for the next try (named in
    the error once its parts were being sent)."""
    assert not object_exists(cell.boto, cell.bucket, cell.key)
    assert [u["UploadId"] for u in incomplete_uploads(cell.boto, cell.bucket, cell.key)] == [
        cell.state["upload_id"]]
    if cell.state["request"] == "UploadPart":
        assert f"--upload-id {shlex.quote(cell.state['upload_id'])}" in " ".join(cell.state["notes"])
    cell.boto.abort_multipart_upload(Bucket=cell.bucket, Key=cell.key,
                                     UploadId=cell.state["upload_id"])


def prepare_handle(cell: Cell) -> None:
    cell.state["data"] = os.urandom(PART + 10)
    cell.state["handle"] = mpu_toolkit.start_upload(cell.url, storage_options=cell.direct,
                                                    max_attempts=ATTEMPTS)


def handle_through_proxy(cell: Cell) -> Any:
    import dataclasses
    return dataclasses.replace(cell.state["handle"], storage_options=cell.so)


def handle_upload_parts(cell: Cell) -> Any:
    data = cell.state["data"]
    return handle_through_proxy(cell).upload_parts([(1, data[:PART]), (2, data[PART:])])


def handle_parts_ok(cell: Cell, parts: Any) -> None:
    cell.state["handle"].complete(parts)
    copied(cell, None)


def handle_stays_open(cell: Cell) -> None:
    """By design: a worker's parts belong to the process that started the upload, which
    completes or aborts it; here it aborts, and nothing is left."""
    assert not object_exists(cell.boto, cell.bucket, cell.key)
    cell.state["handle"].abort()
    nothing_left(cell)


def prepare_handle_parts(cell: Cell) -> None:
    prepare_handle(cell)
    data = cell.state["data"]
    cell.state["parts"] = cell.state["handle"].upload_parts([(1, data[:PART]),
                                                             (2, data[PART:])])


# -- the inventory and lifecycle ----------------------------------------------------------------

def prepare_uploads(cell: Cell) -> None:
    cell.state["data"] = os.urandom(PART)
    cell.state["ids_by_key"] = [cell.start(f"{cell.key}/{i}", parts=1) for i in range(3)]
    cell.state["ids"] = sorted(cell.state["ids_by_key"])


def uploads_untouched(cell: Cell) -> None:
    """A failed listing changes nothing: the uploads are all still there (then cleaned)."""
    for i, upload_id in enumerate(cell.state["ids_by_key"]):
        key = f"{cell.key}/{i}"
        assert [u["UploadId"] for u in incomplete_uploads(cell.boto, cell.bucket, key)] == [
            upload_id]
        cell.boto.abort_multipart_upload(Bucket=cell.bucket, Key=key, UploadId=upload_id)


def listed_all(cell: Cell, frame: pd.DataFrame) -> None:
    mine = frame[frame["key"].str.startswith(f"{cell.key}/")]
    assert sorted(mine["upload_id"]) == cell.state["ids"]
    assert list(mine["bytes"]) == [PART] * 3


def usage_counted(cell: Cell, frame: pd.DataFrame) -> None:
    row = frame[frame["bucket"] == cell.bucket].iloc[0]
    assert row["uploads"] >= 3 and row["bytes"] >= 3 * PART and row["object_bytes"] >= 0


def parts_listed(cell: Cell, frame: pd.DataFrame) -> None:
    assert list(frame["number"]) == [1] and list(frame["size"]) == [PART]


def aborted_all(cell: Cell, frame: pd.DataFrame) -> None:
    # an abort whose answer is lost may be repeated at once by aiohttp itself (DELETE is
    # idempotent) and find the upload gone: "gone" then, which is true as well
    done = {"aborted", "gone"} if cell.state["fault"] == "drop-response" else {"aborted"}
    assert set(frame["outcome"]) <= done, frame["reason"].tolist()
    assert incomplete_uploads(cell.boto, cell.bucket, f"{cell.key}/") == []


def abort_refused(cell: Cell) -> None:
    """Cannot hold: a server that refuses every abort keeps its uploads; each one is
    reported failed with the request named, and a later abort removes them."""
    frame = cell.state["result"]
    assert set(frame["outcome"]) == {"failed"}
    assert all("AbortMultipartUpload" in reason for reason in frame["reason"])
    uploads.abort(f"mpu://{cell.bucket}/{cell.key}/", storage_options=cell.direct, force=True)
    assert incomplete_uploads(cell.boto, cell.bucket, f"{cell.key}/") == []


def prepare_lifecycle(cell: Cell) -> None:
    cell.state["bucket"] = bucket = f"mpu-lc-{uuid.uuid4().hex[:10]}"
    cell.boto.create_bucket(Bucket=bucket)
    cell.boto.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={
        "Rules": [{"ID": "other", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                   "Expiration": {"Days": 30}}]})


def prepare_lifecycle_with_ours(cell: Cell) -> None:
    prepare_lifecycle(cell)
    uploads.set_lifecycle(f"mpu://{cell.state['bucket']}/", 7, storage_options=cell.direct)


def rules_now(cell: Cell) -> dict[str, Any]:
    rules = cell.boto.get_bucket_lifecycle_configuration(Bucket=cell.state["bucket"])["Rules"]
    return {r["ID"]: r for r in rules}


def rule_set(cell: Cell, frame: pd.DataFrame) -> None:
    rules = rules_now(cell)
    assert set(rules) == {"other", "mpu-abort-incomplete-uploads"}
    assert rules["mpu-abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 7}


def rule_removed(cell: Cell, frame: pd.DataFrame) -> None:
    assert set(rules_now(cell)) == {"other"}


def rules_unchanged(before: set[str]) -> Callable[[Cell], None]:
    def left(cell: Cell) -> None:
        assert set(rules_now(cell)) == before
    return left


# -- reading ----------------------------------------------------------------------------------

FRAME = pd.DataFrame({"x": np.arange(50_000), "y": np.random.default_rng(3).normal(size=50_000)})


def prepare_parquet(cell: Cell) -> None:
    buffer = io.BytesIO()
    FRAME.to_parquet(buffer)
    cell.put(cell.key, buffer.getvalue())


def frame_read(cell: Cell, frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(frame, FRAME)


def object_untouched(cell: Cell) -> None:
    assert object_exists(cell.boto, cell.bucket, cell.key)


# -- the rows -----------------------------------------------------------------------------------

ROWS = [
    Row("copy", ("HeadObject", "CopyObject"), prepare=prepare_source(SMALL),
        run=lambda c: mpu_toolkit.copy(f"{c.url}.src", c.url, storage_options=c.so),
        succeeded=copied),
    Row("copy-parts", ("UploadPartCopy", "CompleteMultipartUpload"),
        prepare=prepare_source(2 * PART + 7),
        run=lambda c: mpu_toolkit.copy(f"{c.url}.src", c.url, storage_options=c.so,
                                       copy_cutoff=0, part_size=PART),
        succeeded=copied),
    Row("compose", ("GetObject", "UploadPart", "UploadPartCopy"),
        prepare=prepare_shards([PART + 1, 100_000, PART + 3]), run=compose, succeeded=copied),
    Row("compose-small", ("PutObject",), prepare=prepare_shards([100_000, 200_000]),
        run=compose, succeeded=copied),
    Row("compose-2-levels", ("DeleteObject",), prepare=prepare_shards([PART + 1] * 4),
        run=lambda c: compose(c, limits=PartLimits(max_parts=2)),
        succeeded=lambda c, r: (copied(c, r), no_temporaries(c))),
    Row("upload_file", ("UploadPart",), prepare=prepare_file(2 * PART + 9), run=upload,
        succeeded=copied),
    Row("upload_file-small", ("PutObject",), prepare=prepare_file(SMALL), run=upload,
        succeeded=copied),
    Row("resume", ("ListMultipartUploads", "ListParts", "UploadPart"),
        prepare=prepare_interrupted, run=lambda c: upload(c, resume=True), succeeded=resumed,
        left=kept_for_resume),
    Row("start_upload", ("CreateMultipartUpload",),
        prepare=lambda c: c.state.update(data=b"x"),
        run=lambda c: mpu_toolkit.start_upload(c.url, storage_options=c.so),
        succeeded=lambda c, handle: (c.state.update(handle=handle),
                                     handle_parts_ok(c, handle.upload_parts([(1, b"x")])))),
    Row("UploadHandle.upload_parts", ("UploadPart",), prepare=prepare_handle,
        run=handle_upload_parts, succeeded=handle_parts_ok, left=handle_stays_open),
    Row("UploadHandle.complete", ("CompleteMultipartUpload",), prepare=prepare_handle_parts,
        run=lambda c: handle_through_proxy(c).complete(c.state["parts"]),
        succeeded=copied, left=handle_stays_open),
    Row("uploads.list", ("ListMultipartUploads", "ListParts"), prepare=prepare_uploads,
        run=lambda c: uploads.list(f"mpu://{c.bucket}/{c.key}/", storage_options=c.so),
        succeeded=listed_all,
        left=uploads_untouched),
    Row("uploads.list-every-bucket", ("ListBuckets",), prepare=prepare_uploads,
        run=lambda c: uploads.list(storage_options=c.so), succeeded=listed_all,
        left=uploads_untouched),
    Row("uploads.usage", ("ListObjects",), prepare=prepare_uploads,
        run=lambda c: uploads.usage(f"mpu://{c.bucket}/{c.key}/", storage_options=c.so,
                                    objects=True),
        succeeded=usage_counted,
        left=uploads_untouched),
    Row("uploads.parts", ("ListParts",), prepare=prepare_uploads,
        run=lambda c: uploads.parts(f"mpu://{c.bucket}/{c.key}/0", c.state["ids_by_key"][0],
                                    storage_options=c.so),
        succeeded=parts_listed,
        left=uploads_untouched),
    Row("uploads.abort", ("AbortMultipartUpload", "ListParts"), prepare=prepare_uploads,
        run=lambda c: uploads.abort(f"mpu://{c.bucket}/{c.key}/", storage_options=c.so,
                                    force=True),
        succeeded=aborted_all,
        left=uploads_untouched),
    Row("set_lifecycle", ("GetBucketLifecycle", "PutBucketLifecycle"),
        prepare=prepare_lifecycle,
        run=lambda c: uploads.set_lifecycle(f"mpu://{c.state['bucket']}/", 7,
                                            storage_options=c.so),
        succeeded=rule_set, left=rules_unchanged({"other"})),
    Row("remove_lifecycle", ("PutBucketLifecycle",), prepare=prepare_lifecycle_with_ours,
        run=lambda c: uploads.remove_lifecycle(f"mpu://{c.state['bucket']}/",
                                               storage_options=c.so),
        succeeded=rule_removed,
        left=rules_unchanged({"other", "mpu-abort-incomplete-uploads"})),
    Row("read_parquet", ("HeadObject", "GetObject"), prepare=prepare_parquet,
        run=lambda c: pd.read_parquet(c.url, storage_options=c.so), succeeded=frame_read,
        left=object_untouched),
    Row("mpu uploads", ("ListMultipartUploads",), prepare=prepare_uploads, cli=True,
        run=lambda c: c.cli("uploads", f"mpu://{c.bucket}/{c.key}/", "--json"),
        succeeded=lambda c, done: listed_all(c, pd.DataFrame(json.loads(done.stdout)).assign(
            bytes=lambda f: f["bytes"].astype("int64"))),
        left=uploads_untouched),
    Row("mpu abort", ("AbortMultipartUpload",), prepare=prepare_uploads, cli=True,
        run=lambda c: c.cli("abort", f"mpu://{c.bucket}/{c.key}/", "--force", "--yes",
                            "--json"),
        succeeded=lambda c, done: aborted_all(c, pd.DataFrame(json.loads(done.stdout))),
        left=uploads_untouched),
    Row("mpu cp", ("CopyObject",), prepare=prepare_source(SMALL), cli=True,
        run=lambda c: c.cli("cp", f"{c.url}.src", c.url), succeeded=copied),
    Row("mpu put", ("UploadPart",), prepare=prepare_file(2 * PART + 9), cli=True,
        run=lambda c: c.cli("put", "--part-size", "5MiB", str(c.state["path"]), c.url),
        succeeded=copied),
]


def cells() -> list[Any]:
    params = []
    for row in ROWS:
        for request in row.requests:
            for fault in FAULTS:
                for kind in TIMES:
                    marks = [pytest.mark.slow] if fault == "stall" or row.cli else []
                    params.append(pytest.param(row, request, fault, kind, marks=marks,
                                               id=f"{row.name}-{request}-{fault}-{kind}"))
    return params


@pytest.fixture
def cell(proxy, storage_options, boto, bucket, key, tmp_path, mpu, server) -> Cell:
    so = {**storage_options, "endpoint_url": proxy.endpoint_url, "skip_instance_cache": True,
          "max_attempts": ATTEMPTS,
          "config_kwargs": {"read_timeout": 1, "connect_timeout": 2}}
    return Cell(proxy, so, dict(storage_options), boto, bucket, key, tmp_path, mpu, server)


@pytest.mark.parametrize("row, request_, fault, kind", cells())
def test_operation_under_faults(row: Row, request_: str, fault: str, kind: str, cell: Cell,
                                caplog: pytest.LogCaptureFixture) -> None:
    row.prepare(cell)
    cell.state.update(request=request_, fault=fault)
    cell.proxy.fail(request_, fault, times=TIMES[kind])
    done_anyway = kind == "permanent" and fault == "drop-response" and (
        request_ in LOST_ANSWER_DONE)
    if kind == "transient" or done_anyway:
        result = row.run(cell)
        if row.cli:
            assert result.returncode == 0, result.stderr
        assert cell.proxy.injected.count(f"{request_}:{fault}") >= 1
        row.succeeded(cell, result)
        return
    if row.name == "compose-2-levels":
        # cannot hold: a server that refuses every DeleteObject keeps the temporaries compose
        # made; the object is composed, and the warning names each one left
        copied(cell, row.run(cell))
        listed = cell.boto.list_objects_v2(Bucket=cell.bucket, Prefix=f"{cell.key}.mpu-compose-")
        temporaries = [item["Key"] for item in listed.get("Contents", [])]
        assert temporaries and all(t in caplog.text for t in temporaries)
        for temporary in temporaries:
            cell.boto.delete_object(Bucket=cell.bucket, Key=temporary)
        return
    outcome = expect_failure(row, request_, cell)
    if row.name == "start_upload" and fault == "drop-response":
        # cannot hold: S3 gives CreateMultipartUpload no idempotency token, so an upload a
        # lost answer started cannot be told from another writer's; each is named instead
        left = incomplete_uploads(cell.boto, cell.bucket, cell.key)
        assert left and all(u["UploadId"] in caplog.text for u in left)
        for u in left:
            cell.boto.abort_multipart_upload(Bucket=cell.bucket, Key=cell.key,
                                             UploadId=u["UploadId"])
        return
    if request_ == "AbortMultipartUpload":
        # cannot hold: a server that refuses every abort keeps its uploads; each is reported
        # failed with the request named, and a later abort removes them
        assert set(outcome["outcome"]) == {"failed"}, outcome
        assert all("AbortMultipartUpload" in reason for reason in outcome["reason"])
        uploads.abort(f"mpu://{cell.bucket}/{cell.key}/", storage_options=cell.direct,
                      force=True)
        assert incomplete_uploads(cell.boto, cell.bucket, f"{cell.key}/") == []
        return
    row.left(cell)


def expect_failure(row: Row, request_: str, cell: Cell) -> Any:
    """The operation fails with one clear error naming the request (an abort batch instead
    reports each upload failed, with the request named)."""
    if row.cli:
        done = row.run(cell)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        if request_ == "AbortMultipartUpload":
            return pd.DataFrame(json.loads(done.stdout))
        assert request_ in done.stderr, done.stderr
        return done
    if request_ == "AbortMultipartUpload":
        return row.run(cell)
    with pytest.raises((MPUError, OSError)) as info:
        row.run(cell)
    assert request_ in str(info.value), info.value
    assert cell.proxy.seen.count(request_) >= ATTEMPTS
    cell.state["notes"] = getattr(info.value, "__notes__", [])
    return info.value


def test_every_request_of_the_proxy_is_in_some_row() -> None:
    """The matrix covers each kind of request mpu_toolkit makes (the writer's three are in
    test_fault_matrix.py)."""
    covered = {r for row in ROWS for r in row.requests}
    assert covered >= {"HeadObject", "CopyObject", "UploadPartCopy", "GetObject", "UploadPart",
                       "PutObject", "DeleteObject", "ListMultipartUploads", "ListParts",
                       "CreateMultipartUpload", "CompleteMultipartUpload", "ListBuckets",
                       "AbortMultipartUpload", "GetBucketLifecycle", "PutBucketLifecycle",
                       "ListObjects"}
