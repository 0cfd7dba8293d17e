"""The local server's cap on the bytes it holds (LocalS3(max_bytes=), mpu serve --max-bytes):
writes past it are refused with a clear S3 error, nothing half-stored; what frees bytes works."""

from __future__ import annotations

from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

import mpu_toolkit
from mpu_toolkit import S3Error
from mpu_toolkit.testing.local import LocalS3

MiB = 1 << 20


@pytest.fixture(scope="module")
def s3() -> Iterator[LocalS3]:
    with LocalS3(max_bytes=12 * MiB) as server:
        yield server


@pytest.fixture
def client(s3: LocalS3, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A client on a bucket of this test's own, emptied afterwards (the cap is server-wide)."""
    so = s3.storage_options
    c = boto3.client("s3", endpoint_url=so["endpoint_url"], region_name="us-east-1",
                     aws_access_key_id=so["key"], aws_secret_access_key=so["secret"])
    c.bucket = request.node.name.replace("_", "-")[:50].strip("-")
    c.create_bucket(Bucket=c.bucket)
    yield c
    for upload in c.list_multipart_uploads(Bucket=c.bucket).get("Uploads", []):
        c.abort_multipart_upload(Bucket=c.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    for item in c.list_objects_v2(Bucket=c.bucket).get("Contents", []):
        c.delete_object(Bucket=c.bucket, Key=item["Key"])


def refused(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    assert info.value.response["Error"]["Code"] == "EntityTooLarge"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400  # not retried
    return str(info.value.response["Error"]["Message"])


def test_a_stream_past_the_cap_fails_naming_it_and_leaves_nothing(s3, client):
    with pytest.raises(S3Error, match="EntityTooLarge") as info:
        with mpu_toolkit.open_writer(f"mpu://{client.bucket}/big.bin",
                                     storage_options=s3.storage_options) as f:
            for _ in range(4):
                f.write(bytes(5 * MiB))
    assert "would pass its cap of 12 MiB (max_bytes)" in str(info.value)
    assert client.list_multipart_uploads(Bucket=client.bucket).get("Uploads", []) == []
    assert client.list_objects_v2(Bucket=client.bucket)["KeyCount"] == 0


def test_copies_count_what_they_would_add(client):
    client.put_object(Bucket=client.bucket, Key="seven", Body=bytes(7 * MiB))
    message = refused(client.copy_object, Bucket=client.bucket, Key="copy",
                      CopySource={"Bucket": client.bucket, "Key": "seven"})
    assert "holds 7 MiB; this write of 7 MiB would pass its cap of 12 MiB" in message
    upload = client.create_multipart_upload(Bucket=client.bucket, Key="ranged")["UploadId"]
    refused(client.upload_part_copy, Bucket=client.bucket, Key="ranged", UploadId=upload,
            PartNumber=1, CopySource={"Bucket": client.bucket, "Key": "seven"},
            CopySourceRange=f"bytes=0-{6 * MiB - 1}")
    client.upload_part_copy(Bucket=client.bucket, Key="ranged", UploadId=upload, PartNumber=1,
                            CopySource={"Bucket": client.bucket, "Key": "seven"},
                            CopySourceRange=f"bytes=0-{MiB - 1}")  # a range that fits
    assert client.list_parts(Bucket=client.bucket, Key="ranged",
                             UploadId=upload)["Parts"][0]["Size"] == MiB


def test_deletes_and_aborts_free_room_and_small_requests_pass(client):
    client.put_object(Bucket=client.bucket, Key="a", Body=bytes(8 * MiB))
    upload = client.create_multipart_upload(Bucket=client.bucket, Key="b")["UploadId"]
    client.upload_part(Bucket=client.bucket, Key="b", UploadId=upload, PartNumber=1,
                       Body=bytes(4 * MiB))
    refused(client.put_object, Bucket=client.bucket, Key="c", Body=bytes(1))
    client.put_object_tagging(Bucket=client.bucket, Key="a",  # no bytes held: not refused
                              Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    client.abort_multipart_upload(Bucket=client.bucket, Key="b", UploadId=upload)
    client.put_object(Bucket=client.bucket, Key="c", Body=bytes(4 * MiB))
    client.delete_object(Bucket=client.bucket, Key="a")
    client.put_object(Bucket=client.bucket, Key="d", Body=bytes(8 * MiB))
    assert client.head_object(Bucket=client.bucket, Key="d")["ContentLength"] == 8 * MiB
