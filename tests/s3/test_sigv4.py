"""The part path's SigV4 signature is the one botocore's S3 signer computes for the same
request (same time, headers and payload hash): servers that check signatures accept both."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mpu_toolkit._s3.sigv4 import UNSIGNED_PAYLOAD, Scope, canonical_query, sign

NOW = dt.datetime(2026, 12, 6, 18, 30, 5, tzinfo=dt.timezone.utc)


def botocore_authorization(url: str, headers: dict[str, str], payload: str,
                           token: str | None, region: str) -> dict[str, str]:
    class Signer(S3SigV4Auth):  # the payload hash given, as the part path signs it
        def payload(self, request):
            return payload

    request = AWSRequest("PUT", url, headers=headers)
    signer = Signer(Credentials("AKIDEXAMPLE", "wJalr/K7MDENG+bPxRfiCY", token), "s3", region)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        signer.add_auth(request)
    return {k.lower(): v for k, v in request.headers.items()}


@pytest.mark.parametrize("token", [None, "FQoGZXIvYXdzEJr//////////wEaDLOr+token="])
@pytest.mark.parametrize("digest", [{}, {"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="},
                                    {"x-amz-checksum-crc32c": "AAAAAA=="}])
@pytest.mark.parametrize("payload", [UNSIGNED_PAYLOAD, "a" * 64])
@pytest.mark.parametrize("host, path", [("127.0.0.1:9000", "/bucket/dir/a%20b%2Bc.bin"),
                                        ("bucket.s3.eu-west-1.amazonaws.com", "/k%C3%A9y")])
def test_signature_equals_botocore(token, digest, payload, host, path):
    query = canonical_query({"partNumber": "7", "uploadId": "2~Ab+/x=="})
    ours = sign("PUT", host, path, query, digest, payload,
                Scope("AKIDEXAMPLE", "wJalr/K7MDENG+bPxRfiCY", token, "eu-west-1"), NOW)
    theirs = botocore_authorization(f"http://{host}{path}?{query}", digest, payload, token,
                                    "eu-west-1")
    assert ours["authorization"] == theirs["authorization"]
    assert ours["x-amz-date"] == theirs["x-amz-date"] == "20261206T183005Z"


def test_a_different_secret_gives_a_different_signature():
    args = ("PUT", "h", "/b/k", "partNumber=1&uploadId=u", {}, UNSIGNED_PAYLOAD)
    one = sign(*args, Scope("AK", "secret-1", None, "us-east-1"), NOW)["authorization"]
    two = sign(*args, Scope("AK", "secret-2", None, "us-east-1"), NOW)["authorization"]
    assert one != two and one.split("Signature=")[0] == two.split("Signature=")[0]


def test_canonical_query_sorts_and_encodes():
    assert canonical_query({"uploadId": "a b+/=~", "partNumber": "10"}) == \
        "partNumber=10&uploadId=a%20b%2B%2F%3D~"
