"""UploadPart on the part path, against the real server: parts leave through it (not through
botocore) and arrive byte-exact; the clients it cannot serve are named and keep botocore; and
its answers parse exactly as botocore's parser parses them. Retries, faults and interrupts on
this path are the fault matrix's and the interrupt tests' (they write through it)."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import RestXMLParser

from mpu_toolkit import MPUFileSystem
from mpu_toolkit._plan.sizing import MiB
from mpu_toolkit._s3.part_path import ENVIRONMENT_SWITCH, PartPath, _parsed, _unsupported, route
from mpu_toolkit._s3.wire import Answer

DATA = os.urandom(2 * 5 * MiB + 1234)  # three parts


def write_counting_botocore_parts(so: dict[str, Any], url: str) -> tuple[Any, int]:
    """Write DATA; return the client and how many UploadParts botocore sent (the part path
    announces its requests on the same before-send event, under its own user agent)."""
    fs = MPUFileSystem(**so, skip_instance_cache=True)
    fs.connect()
    agents: list[str] = []
    fs.s3.meta.events.register("before-send.s3.UploadPart",
                               lambda request, **kw: agents.append(
                                   str(request.headers.get("user-agent", ""))))
    with fs.open(url, "wb", part_size=5 * MiB, checksum="crc32c") as f:
        f.write(DATA)
    assert len(agents) == 3
    return fs.s3, sum("part path" not in agent for agent in agents)


def test_parts_leave_on_the_part_path_byte_exact(storage_options, boto, bucket, key):
    client, through_botocore = write_counting_botocore_parts(storage_options, f"{bucket}/{key}")
    assert PartPath.of(client) is not None and through_botocore == 0
    body = boto.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert hashlib.md5(body).digest() == hashlib.md5(DATA).digest()


def test_the_environment_switch_sends_parts_through_botocore(storage_options, boto, bucket, key,
                                                            monkeypatch):
    monkeypatch.setenv(ENVIRONMENT_SWITCH, "botocore")
    client, through_botocore = write_counting_botocore_parts(storage_options, f"{bucket}/{key}")
    assert PartPath.of(client) is None and through_botocore == 3
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == DATA


@pytest.mark.parametrize("change, why", [
    ({"endpoint_url": "https://127.0.0.1:1"}, "not a plain-HTTP endpoint"),
    ({"config_kwargs": {"s3": {"payload_signing_enabled": True}}}, "payload signing"),
    ({"config_kwargs": {"request_checksum_calculation": "when_supported"}},
     "botocore computes checksums"),
    ({"config_kwargs": {"proxies": {"http": "http://127.0.0.1:3128"}}}, "a proxy"),
    ({"anon": True, "key": None, "secret": None}, "not SigV4"),  # anonymous: unsigned
])
def test_clients_it_cannot_serve_keep_botocore(storage_options, change, why):
    so = {k: v for k, v in {**storage_options, **change}.items() if v is not None}
    fs = MPUFileSystem(**so, skip_instance_cache=True)
    fs.connect()
    assert _unsupported(fs.s3) == why
    assert route(fs.s3) == f"botocore: {why}"  # what `mpu doctor` shows
    assert PartPath.of(fs.s3) is None


def test_a_plain_http_client_takes_the_part_path(storage_options):
    fs = MPUFileSystem(**storage_options, skip_instance_cache=True)
    fs.connect()
    client = fs._wired(fs.s3)  # as before every request: the retry policy installed
    assert route(client) == "part path" and PartPath.of(client) is not None


def test_a_proxy_in_the_environment_keeps_botocore(storage_options, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    fs = MPUFileSystem(**storage_options, skip_instance_cache=True)
    fs.connect()
    assert _unsupported(fs.s3) == "a proxy"


UPLOAD_PART = botocore.session.get_session().get_service_model("s3").operation_model("UploadPart")


@pytest.mark.parametrize("status, headers, body", [
    (200, {"etag": '"abc"', "x-amz-checksum-crc32c": "yZRlqg==", "x-amz-request-id": "R1"}, b""),
    (403, {"x-amz-request-id": "R2"},
     b'<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code><Message>no</Message>'
     b"<RequestId>R2</RequestId></Error>"),
    (503, {}, b"<Error><Code>SlowDown</Code><Message>Please reduce</Message></Error>"),
    (502, {"content-type": "text/html"}, b"<html><body>Bad gateway</body></html>"),
    (500, {}, b""),
    (404, {}, b"not xml at all <"),
])
def test_answers_parse_as_botocore_parses_them(status, headers, body):
    ours = _parsed(Answer(status, "", headers, body), attempt=1)
    theirs = RestXMLParser().parse({"status_code": status, "headers": HeadersDict(headers),
                                    "body": body},
                                   UPLOAD_PART.output_shape)
    assert ours.pop("ResponseMetadata")["RequestId"] == theirs.pop("ResponseMetadata").get(
        "RequestId", "")
    assert ours == theirs


@pytest.mark.parametrize("name", ["sp ace+plus=eq&amp;~t%25", "ünï/cödé/😀", "a//double/./dot/../x",
                                  "question?mark#hash"])
def test_keys_that_need_encoding_are_signed_and_addressed_as_botocore_does(
        name, storage_options, boto, bucket, key):
    """Ceph RGW checks every signature (moto does not): a wrong canonical path or query would
    be refused with SignatureDoesNotMatch; an address other than botocore's would land the
    parts under another key."""
    target = f"{key}/{name}"
    client, through_botocore = write_counting_botocore_parts(storage_options,
                                                             f"{bucket}/{target}")
    assert through_botocore == 0
    assert boto.get_object(Bucket=bucket, Key=target)["Body"].read() == DATA
