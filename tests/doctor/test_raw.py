"""Raw requests: signed by botocore with the payload hash asked for, sent as they are."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from mpu_toolkit.doctor.raw import Answer, RawS3, _SignedAs

CREDENTIALS = ReadOnlyCredentials("AKIDEXAMPLE", "secret", None)


def test_the_given_payload_hash_is_the_signed_one() -> None:
    request = AWSRequest(method="PUT", url="http://127.0.0.1:9/b/k", data=b"body")
    _SignedAs(CREDENTIALS, "us-east-1", "STREAMING-UNSIGNED-PAYLOAD-TRAILER").add_auth(request)
    assert request.headers["X-Amz-Content-SHA256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert "x-amz-content-sha256" in request.headers["Authorization"]


def test_a_signed_put_and_get_round_trip(storage_options: dict[str, Any], bucket: str,
                                         boto: Any) -> None:
    raw = RawS3(storage_options["endpoint_url"],
                ReadOnlyCredentials(storage_options["key"], storage_options["secret"], None),
                "us-east-1")
    put = raw.send("PUT", bucket, "raw/a key+with spaces", body=b"raw bytes")
    assert put.ok and put.headers["etag"].strip('"') == hashlib.md5(b"raw bytes").hexdigest()
    assert boto.get_object(Bucket=bucket, Key="raw/a key+with spaces")["Body"].read() == (
        b"raw bytes")
    assert raw.send("GET", bucket, "raw/a key+with spaces").body == b"raw bytes"
    missing = raw.send("GET", bucket, "raw/missing")
    assert (missing.status, missing.code) == (404, "NoSuchKey")
    assert missing.said() == "404 NoSuchKey"
    boto.delete_object(Bucket=bucket, Key="raw/a key+with spaces")
    raw.close()


def test_an_answer_without_an_error_body_says_its_status() -> None:
    assert Answer(200, {}, b"").said() == "200 OK"
    assert Answer(404, {}, b"").said() == "404 no error code"


def test_a_certificate_check_can_be_turned_off_as_botocore_s_verify() -> None:
    unchecked = RawS3("https://127.0.0.1:9", CREDENTIALS, "us-east-1", verify=False)
    assert unchecked._pool.connection_pool_kw["cert_reqs"] == "CERT_NONE"
    bundle = RawS3("https://127.0.0.1:9", CREDENTIALS, "us-east-1", verify="/etc/ca.pem")
    assert bundle._pool.connection_pool_kw["ca_certs"] == "/etc/ca.pem"
    checked = RawS3("https://127.0.0.1:9", CREDENTIALS, "us-east-1")
    assert "cert_reqs" not in checked._pool.connection_pool_kw


def test_no_answer_is_a_connection_error() -> None:
    closed = RawS3("http://127.0.0.1:9", CREDENTIALS, "us-east-1", timeout=1)
    with pytest.raises(ConnectionError, match="GET http://127.0.0.1:9/bucket/key"):
        closed.send("GET", "bucket", "key")
