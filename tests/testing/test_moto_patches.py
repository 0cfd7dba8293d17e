"""The local server's changes to moto: real upload dates, parts released after Complete, and a
loud failure if moto's internals change."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, Iterator

import boto3
import pytest

from mpu_toolkit import uploads
from mpu_toolkit.testing import moto_patches
from mpu_toolkit.testing.local import LocalS3


def test_each_upload_carries_the_time_it_was_started(fs, boto, bucket, key):
    """Listed through mpu_toolkit, two uploads a second apart: each its own real time (to the
    millisecond), not moto's fixed 2010 date; the default min_age protects them."""
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    first = boto.create_multipart_upload(Bucket=bucket, Key=f"{key}/a")["UploadId"]
    time.sleep(1.1)
    second = boto.create_multipart_upload(Bucket=bucket, Key=f"{key}/b")["UploadId"]
    time.sleep(1)
    listed = uploads.list(f"mpu://{bucket}/{key}/", fs=fs).set_index("upload_id")
    started = {i: listed.loc[i, "initiated"].to_pydatetime() for i in (first, second)}
    assert before <= started[first] and started[second] <= datetime.now(timezone.utc)
    assert started[second] - started[first] >= timedelta(seconds=1)
    assert all(timedelta(seconds=0.5) <= age < timedelta(minutes=5) for age in listed["age"])
    kept = uploads.abort(f"mpu://{bucket}/{key}/", fs=fs)  # min_age="1h" by default
    assert set(kept["outcome"]) == {"skipped"}
    assert len(uploads.list(f"mpu://{bucket}/{key}/", fs=fs)) == 2


@pytest.fixture(scope="module")
def capped() -> Iterator[Any]:
    with LocalS3(max_bytes=12 << 20) as s3:
        so = s3.storage_options
        client = boto3.client("s3", endpoint_url=so["endpoint_url"], region_name="us-east-1",
                              aws_access_key_id=so["key"], aws_secret_access_key=so["secret"])
        client.create_bucket(Bucket="capped")
        yield client


def test_a_completed_upload_holds_its_bytes_once(capped):
    """10 MiB in two parts, completed, under a 12 MiB cap: the parts are released, so another
    1.5 MiB still fits (moto alone would hold the 10 MiB twice and refuse it)."""
    upload = capped.create_multipart_upload(Bucket="capped", Key="joined")["UploadId"]
    parts = [{"PartNumber": n, "ETag": capped.upload_part(
        Bucket="capped", Key="joined", UploadId=upload, PartNumber=n,
        Body=bytes([n]) * (5 << 20))["ETag"]} for n in (1, 2)]
    capped.complete_multipart_upload(Bucket="capped", Key="joined", UploadId=upload,
                                     MultipartUpload={"Parts": parts})
    capped.put_object(Bucket="capped", Key="more", Body=bytes(3 << 19))
    body = capped.get_object(Bucket="capped", Key="joined")["Body"].read()
    assert body == bytes([1]) * (5 << 20) + bytes([2]) * (5 << 20)
    second = capped.get_object(Bucket="capped", Key="joined", PartNumber=2)
    assert second["ContentLength"] == 5 << 20 and second["PartsCount"] == 2


def test_install_fails_loudly_when_moto_lost_what_it_wraps(monkeypatch):
    from moto.s3.responses import S3Response

    monkeypatch.delattr(S3Response, "list_multipart_uploads")
    with pytest.raises(RuntimeError, match="moto changed: S3Response.list_multipart_uploads"):
        moto_patches.install()


def test_a_listing_that_no_longer_serializes_fails_loudly():
    listing = moto_patches._dated_listing(lambda self: (200, {}, "<uploads/>"))
    with pytest.raises(RuntimeError, match="no longer goes through S3Response.serialized"):
        listing(SimpleNamespace(serialized=lambda result: result))


@pytest.fixture(scope="module")
def local_s3() -> Iterator[Any]:
    """mpu_toolkit's local server (patched moto), whatever server the session tests."""
    with LocalS3() as s3:
        yield s3.storage_options


def test_parts_racing_their_uploads_abort_are_no_such_upload_never_a_500(local_s3):
    """Parts of 1.5 MiB (on disk) sent by 8 threads while the upload is aborted: each answer is
    200 or NoSuchUpload, as on S3. Plain moto answered some with 500 (a closed file, a deleted
    upload), which clients logged as server errors and retried."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.config import Config
    from botocore.exceptions import ClientError

    client = boto3.client("s3", endpoint_url=local_s3["endpoint_url"], region_name="us-east-1",
                          aws_access_key_id=local_s3["key"],
                          aws_secret_access_key=local_s3["secret"],
                          config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    client.create_bucket(Bucket="raced")
    answers: list[str] = []
    for round_ in range(3):
        key = f"raced-{round_}"
        upload = client.create_multipart_upload(Bucket="raced", Key=key)["UploadId"]

        def part(number: int) -> str:
            if number == 6:
                client.abort_multipart_upload(Bucket="raced", Key=key, UploadId=upload)
                return "aborted"
            try:
                client.upload_part(Bucket="raced", Key=key, UploadId=upload,
                                   PartNumber=number, Body=bytes(3 << 19))
                return "200"
            except ClientError as error:
                return str(error.response["Error"]["Code"])

        with ThreadPoolExecutor(8) as pool:
            answers += pool.map(part, range(1, 25))
    assert set(answers) <= {"200", "NoSuchUpload", "aborted"}, answers
    assert "NoSuchUpload" in answers  # the race did happen


def test_an_abort_disposes_the_parts_present_even_while_a_part_arrives():
    """A part added while the abort disposes (another server thread): every part present is
    disposed and the abort does not fail; moto's own dispose raised RuntimeError (a 500)."""
    from moto.s3.models import FakeMultipart

    def upload_with_a_part_arriving(disposed: list[int]) -> Any:
        parts: dict[int, Any] = {}

        def part(number: int) -> Any:
            def dispose() -> None:
                disposed.append(number)
                parts.setdefault(number + 10, SimpleNamespace(dispose=lambda: None))
            return SimpleNamespace(dispose=dispose)

        parts.update({n: part(n) for n in (1, 2, 3)})
        return SimpleNamespace(parts=parts)

    moto_patches.install()
    disposed: list[int] = []
    upload = upload_with_a_part_arriving(disposed)
    FakeMultipart.dispose(upload)
    assert disposed == [1, 2, 3] and len(upload.parts) == 6
    with pytest.raises(RuntimeError, match="changed size during iteration"):
        FakeMultipart.dispose.__wrapped__(upload_with_a_part_arriving([]))  # moto's own
