"""No credential in any log: with every logger at DEBUG (botocore's, aiobotocore's, s3fs's,
urllib3's and aiohttp's included), a write, a read, listings, an abort and a presigned URL
log neither the session token, nor the secret, nor the access key id."""

from __future__ import annotations

import logging
import os
import secrets
import traceback
from collections import Counter
from typing import Any, Iterator
from urllib.parse import quote

import pytest
from botocore.compat import HAS_CRT

import mpu_toolkit
from mpu_toolkit import MPUFileSystem, uploads
from mpu_toolkit._plan.sizing import MiB
from mpu_toolkit._s3 import redact


class Capture(logging.Handler):
    """Every record that reaches the root logger, with its formatted text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.records: list[logging.LogRecord] = []
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.texts.append("\n".join([self.format(record), repr(record.args),
                                     "".join(traceback.format_exception(*record.exc_info))
                                     if record.exc_info else ""]))


@pytest.fixture
def every_log() -> Iterator[Capture]:
    """Root and every logger there is at DEBUG, propagating to one capturing handler."""
    capture, root = Capture(), logging.getLogger()
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    saved = [(lg, lg.level, lg.propagate, lg.disabled) for lg in loggers]
    old_level = root.level
    root.setLevel(logging.DEBUG)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.propagate, lg.disabled = True, False
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
        for lg, level, propagate, disabled in saved:
            lg.setLevel(level)
            lg.propagate, lg.disabled = propagate, disabled


def credentials(server: Any) -> dict[str, str]:
    """A key, secret and session token found nowhere else (moto accepts any); another server
    needs its own key and secret, and refuses a made-up token."""
    if server.is_moto:
        return {"key": "AKIA" + secrets.token_hex(8).upper(), "secret": secrets.token_urlsafe(30),
                "token": "IQoJ" + secrets.token_urlsafe(48) + "/+=="}
    return {"key": server.storage_options["key"], "secret": server.storage_options["secret"]}


def test_no_credential_in_any_log_at_debug(server: Any, bucket: str, key: str,
                                           every_log: Capture) -> None:
    so = {"endpoint_url": server.endpoint_url, **credentials(server)}
    fs = MPUFileSystem(**so, skip_instance_cache=True)
    url = f"{bucket}/{key}"
    with fs.open(f"{url}/big", "wb", part_size=5 * MiB) as f:  # three parts
        f.write(os.urandom(12 * MiB))
    assert len(fs.cat(f"{url}/big")) == 12 * MiB
    assert fs.ls(url, detail=False) == [f"{url}/big"]
    MPUFileSystem(**so, skip_instance_cache=True, config_kwargs={"signature_version": "s3v4"}
                  ).sign(f"{url}/big")  # a presigned URL: its canonical query has them all
    handle = mpu_toolkit.start_upload(f"mpu://{url}/incomplete", storage_options=so)
    listed = uploads.list(f"mpu://{url}/", storage_options=so)
    assert list(listed["upload_id"]) == [handle.upload_id]
    aborted = uploads.abort(listed, storage_options=so, force=True)
    assert list(aborted["outcome"]) == ["aborted"]

    logs = "\n".join(every_log.texts)
    names = {r.name for r in every_log.records}
    assert {"botocore.endpoint", "botocore.parsers"} <= names, names
    assert "Sending http request" in logs
    if not HAS_CRT:  # awscrt (a dependency) signs in C and logs no canonical request
        assert "botocore.auth" in names and "CanonicalRequest" in logs
    forms = {name: (so[name], quote(so[name], safe="")) for name in ("key", "secret", "token")
             if name in so}
    leaks = Counter(f"{name} in {record.name}" for record, text in zip(every_log.records,
                                                                        every_log.texts)
                    for name, (plain, quoted) in forms.items() if plain in text or quoted in text)
    assert not leaks, f"credentials logged (records): {dict(leaks)}"
    assert "Credential=<redacted>" in logs  # the Authorization header, its key id redacted
    if "token" in so:
        assert HAS_CRT or "x-amz-security-token:<redacted>" in logs.lower()  # canonical requests
        assert HAS_CRT or "X-Amz-Security-Token=<redacted>" in logs  # the presigned URL's
    assert HAS_CRT or "X-Amz-Credential=<redacted>" in logs


def test_a_remembered_credential_is_redacted_wherever_it_appears(every_log: Capture) -> None:
    token = secrets.token_urlsafe(40) + "/+="
    redact.remember(token)
    log = logging.getLogger("botocore.some.future.module")  # made after the install
    log.debug("odd place: %s and %r", token, {"quoted": quote(token, safe="")})
    try:
        raise RuntimeError(f"refused {token}")
    except RuntimeError:
        log.debug("failed", exc_info=True)
    logging.getLogger("s3fs").debug("aws_session_token=%s", "unknown-token-value")
    logs = "\n".join(every_log.texts)
    assert token not in logs and quote(token, safe="") not in logs
    assert "unknown-token-value" not in logs and logs.count("<redacted>") == 4, logs


def test_records_of_other_libraries_are_left_alone(every_log: Capture) -> None:
    args = {"aws_session_token": "mine"}
    logging.getLogger("myapp").debug("%s", args)
    record = every_log.records[-1]
    assert record.args is args and record.getMessage() == str(args)


@pytest.mark.parametrize("shape", [
    "headers={'X-Amz-Security-Token': b'%s', 'Host': b'h'}",  # botocore.endpoint
    "x-amz-security-token:%s\n",  # a canonical request / SigV2 string to sign
    "GET /k?X-Amz-Credential=%s%%2F20260101%%2Fus-east-1&X-Amz-Date=1",  # SigV4 presigned
    "GET /k?AWSAccessKeyId=%s&Expires=1",  # SigV2 presigned
    "'Authorization': b'AWS4-HMAC-SHA256 Credential=%s/20260101/us-east-1/s3/aws4_request'",
    "'Authorization': b'AWS %s:c2lnbmF0dXJl'",  # SigV2
    "b'<Credentials><SessionToken>%s</SessionToken>'",  # an STS answer (botocore.parsers)
    '{"secretAccessKey": "%s"}',  # an SSO answer
    "aws_secret_access_key = %s",  # a config file line
])
@pytest.mark.parametrize("first", ["", "b", "B", "x"])  # a value's own leading b is no b'...'
def test_every_shape_of_a_logged_credential_is_redacted(shape: str, first: str) -> None:
    value = first + secrets.token_urlsafe(24)  # never remembered: found by its name only
    clean = redact.scrub(shape % value)
    assert value not in clean and value[1:] not in clean and redact.REDACTED in clean
    assert redact.scrub(clean) == clean


def test_names_alone_and_listing_tokens_are_left_alone() -> None:
    text = ("SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=abc\n"
            "<NextContinuationToken>1ZAbc9</NextContinuationToken> upload_id=Zx9")
    assert redact.scrub(text) == text
