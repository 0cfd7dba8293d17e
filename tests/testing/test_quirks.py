"""QuirkProxy: each quirk seen by a plain boto3 client through the proxy, and absent through
the same proxy without it (so the proxy itself changes nothing else)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from mpu_toolkit.testing.quirks import QUIRKS, STORE_QUIRKS, Quirk, QuirkProxy
from mpu_toolkit._s3.providers import PROVIDERS

MiB = 1 << 20


class Through:
    """``through(*quirks)``: a boto3 client through a new QuirkProxy with those quirks (the
    last one made is ``through.proxy``)."""

    def __init__(self, server: Any) -> None:
        self.server, self.proxies = server, []

    @property
    def proxy(self) -> QuirkProxy:
        return self.proxies[-1]

    def __call__(self, *quirks: Quirk, **config: Any) -> Any:
        so = self.server.storage_options
        proxy = QuirkProxy(self.server.endpoint_url, quirks,
                           credentials=(so["key"], so["secret"]))
        self.proxies.append(proxy.start())
        return boto3.client(
            "s3", endpoint_url=proxy.endpoint_url, aws_access_key_id=so["key"],
            aws_secret_access_key=so["secret"], region_name="us-east-1",
            config=Config(retries={"total_max_attempts": 1},
                          **{"request_checksum_calculation": "when_required",
                             "response_checksum_validation": "when_required", **config}))


@pytest.fixture
def through(server: Any) -> Iterator[Through]:
    made = Through(server)
    yield made
    for proxy in made.proxies:
        proxy.stop()


def code_of(call: Any) -> str:
    """The error code ``call`` fails with, or "" when it succeeds."""
    try:
        call()
    except ClientError as e:
        return str(e.response["Error"]["Code"])
    return ""


def test_store_quirks_name_known_quirks_and_presets():
    for store, quirks in STORE_QUIRKS.items():
        assert set(quirks) <= set(QUIRKS)
        assert store in PROVIDERS
    with pytest.raises(ValueError, match="unknown quirks"):
        QuirkProxy("http://127.0.0.1:1", ["exact_keys"])  # type: ignore[list-item]


@pytest.mark.parametrize("quirky", [True, False])
def test_exact_key_listing(through, boto, bucket, key, quirky):
    s3 = through(*(["exact_key_listing"] if quirky else []))
    upload = boto.create_multipart_upload(Bucket=bucket, Key=f"{key}/dir/a")["UploadId"]
    try:
        def found(**prefix: str) -> list[str]:
            answer = s3.list_multipart_uploads(Bucket=bucket, **prefix)
            return [u["UploadId"] for u in answer.get("Uploads", [])]
        assert found(Prefix=f"{key}/dir/a") == [upload]
        assert (upload in found(Prefix=f"{key}/dir/")) is not quirky
        assert (upload in found()) is not quirky
    finally:
        boto.abort_multipart_upload(Bucket=bucket, Key=f"{key}/dir/a", UploadId=upload)


def _complete(s3: Any, bucket: str, key: str, sizes: list[int]) -> str:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key=key, UploadId=upload,
                                                      PartNumber=n, Body=bytes(size))["ETag"]}
             for n, size in enumerate(sizes, 1)]
    code = code_of(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}))
    if code:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)
    return code


@pytest.mark.parametrize("sizes", [[5 * MiB, 6 * MiB, MiB], [5 * MiB, 6 * MiB]])
def test_equal_parts_refuses_parts_of_other_sizes(through, bucket, key, sizes):
    assert _complete(through("equal_parts"), bucket, key, sizes) == "InvalidPart"
    assert _complete(through(), bucket, key, sizes) == ""


def test_equal_parts_takes_equal_parts_and_a_smaller_last(through, boto, bucket, key):
    assert _complete(through("equal_parts"), bucket, key, [5 * MiB, 5 * MiB, 2]) == ""
    assert boto.head_object(Bucket=bucket, Key=key)["ContentLength"] == 10 * MiB + 2


def _with_trailer(s3: Any) -> Any:
    """``s3`` sending its flexible checksums as aws-chunked trailers, as botocore does over
    HTTPS (over plain HTTP it sends them as headers)."""
    def to_trailer(context: dict[str, Any], **_: Any) -> None:
        algorithm = context.get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict):
            algorithm["in"] = "trailer"
    s3.meta.events.register("before-call.s3.PutObject", to_trailer)
    return s3


def test_no_trailers_refuses_aws_chunked_bodies(through, boto, bucket, key):
    s3 = _with_trailer(through("no_trailers", request_checksum_calculation="when_supported"))
    assert code_of(lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"data")) \
        == "XAmzContentSHA256Mismatch"
    assert through.proxy.refused == ["PutObject:XAmzContentSHA256Mismatch"]
    assert code_of(lambda: boto.head_object(Bucket=bucket, Key=key)) == "404"
    plain = through("no_trailers")
    plain.put_object(Bucket=bucket, Key=key, Body=b"data")  # no trailer: taken
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == b"data"


def test_without_no_trailers_aws_chunked_bodies_reach_the_server(through, boto, bucket, key,
                                                                  server):
    """moto takes them; RGW 16 itself refuses them as Yandex does."""
    s3 = _with_trailer(through(request_checksum_calculation="when_supported"))
    code = code_of(lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"data"))
    assert through.proxy.refused == []
    assert code == ("" if server.is_moto else "XAmzContentSHA256Mismatch")
    if server.is_moto:
        assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == b"data"


def test_no_crc64nvme(through, boto, bucket, key):
    value = base64.b64encode(bytes(8)).decode()
    s3 = through("no_crc64nvme")
    assert code_of(lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"x",
                                         ChecksumCRC64NVME=value)) == "NotImplemented"
    assert through.proxy.refused == ["PutObject:NotImplemented"]
    assert code_of(lambda: s3.create_multipart_upload(
        Bucket=bucket, Key=key, ChecksumAlgorithm="CRC64NVME")) == "NotImplemented"
    assert code_of(lambda: boto.head_object(Bucket=bucket, Key=key)) == "404"
    s3.put_object(Bucket=bucket, Key=key, Body=b"x", ChecksumAlgorithm="CRC32")  # others pass
    upload = through().create_multipart_upload(Bucket=bucket, Key=key,
                                               ChecksumAlgorithm="CRC64NVME")["UploadId"]
    boto.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)


@pytest.mark.parametrize("quirky", [True, False])
def test_ignore_content_md5_stores_a_wrong_md5(through, boto, bucket, key, quirky, server):
    s3 = through(*(["ignore_content_md5"] if quirky else []))
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    code = code_of(lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"data",
                                         ContentMD5=wrong))
    if server.is_moto:  # moto checks no Content-MD5: it keeps the header it was given
        head = boto.head_object(Bucket=bucket, Key=key)["ResponseMetadata"]["HTTPHeaders"]
        assert code == "" and ("content-md5" in head) is not quirky
    else:
        assert code == ("" if quirky else "BadDigest")
        assert code_of(lambda: boto.head_object(Bucket=bucket, Key=key)) == \
            ("" if quirky else "404")


@pytest.mark.parametrize("quirk, condition", [
    ("ignore_if_none_match", {"IfNoneMatch": "*"}),
    ("ignore_if_match", {"IfMatch": '"0123456789abcdef0123456789abcdef"'}),
])
@pytest.mark.parametrize("quirky", [True, False])
def test_ignored_conditions_overwrite(through, boto, bucket, key, quirk, condition, quirky):
    boto.put_object(Bucket=bucket, Key=key, Body=b"old")
    s3 = through(*([quirk] if quirky else []))
    code = code_of(lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"new", **condition))
    assert code == ("" if quirky else "PreconditionFailed")
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == \
        (b"new" if quirky else b"old")


@pytest.mark.parametrize("quirky", [True, False])
def test_no_flexible_checksums_answers_none(through, bucket, key, quirky, server):
    """moto echoes checksums; RGW 16 has none, as if it had the quirk."""
    s3 = through(*(["no_flexible_checksums"] if quirky else []))
    put = s3.put_object(Bucket=bucket, Key=key, Body=b"data", ChecksumAlgorithm="CRC32")
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    upload = s3.create_multipart_upload(Bucket=bucket, Key=f"{key}-mpu",
                                        ChecksumAlgorithm="CRC32")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key=f"{key}-mpu", UploadId=upload, PartNumber=1,
                          Body=b"part", ChecksumAlgorithm="CRC32")
    listed = s3.list_parts(Bucket=bucket, Key=f"{key}-mpu", UploadId=upload)["Parts"]
    s3.abort_multipart_upload(Bucket=bucket, Key=f"{key}-mpu", UploadId=upload)
    answers = [put, head, part, *listed]
    assert all("ChecksumCRC32" not in a for a in answers) is (quirky or not server.is_moto)


@pytest.mark.parametrize("signed_again", [True, False])
def test_a_request_changed_is_signed_again(server, boto, bucket, key, signed_again):
    """With credentials, a changed request (a key to escape, a query string) is signed again;
    without, it keeps the client's signature: RGW refuses it, moto (which checks none) takes
    it."""
    so = server.storage_options
    credentials = (so["key"], so["secret"]) if signed_again else None
    name, md5 = f"{key}/a b+c=ü~", base64.b64encode(hashlib.md5(b"data").digest()).decode()
    with QuirkProxy(server.endpoint_url, ["ignore_content_md5"], credentials) as proxy:
        s3 = boto3.client("s3", endpoint_url=proxy.endpoint_url, region_name="us-east-1",
                          aws_access_key_id=so["key"], aws_secret_access_key=so["secret"])
        upload = s3.create_multipart_upload(Bucket=bucket, Key=name)["UploadId"]
        codes = [code_of(lambda: s3.put_object(Bucket=bucket, Key=name, Body=b"data",
                                               ContentMD5=md5)),
                 code_of(lambda: s3.upload_part(Bucket=bucket, Key=name, UploadId=upload,
                                                PartNumber=1, Body=b"data", ContentMD5=md5))]
        s3.abort_multipart_upload(Bucket=bucket, Key=name, UploadId=upload)
    refused = "" if signed_again or server.is_moto else "SignatureDoesNotMatch"
    assert codes == [refused, refused]
