"""The integrity probes' pieces: the ``aws-chunked`` framing they send, and the verdict on a
right and a wrong value (the probes themselves run in test_doctor.py, per server)."""

from __future__ import annotations

import base64
import zlib

from mpu_toolkit.doctor.integrity import _verdict, chunked
from mpu_toolkit.doctor.raw import Answer


def test_the_chunked_body_is_one_chunk_and_a_crc32_trailer() -> None:
    body = b"x" * 300
    size, rest = chunked(body).split(b"\r\n", 1)
    assert int(size, 16) == 300 and rest[:300] == body
    end, trailer, blank = rest[302:].split(b"\r\n", 2)
    assert end == b"0" and blank == b"\r\n"
    name, value = trailer.split(b":")
    assert name == b"x-amz-checksum-crc32"
    assert base64.b64decode(value) == zlib.crc32(body).to_bytes(4, "big")


def answer(status: int, code: str = "") -> Answer:
    return Answer(status, {}, f"<Error><Code>{code}</Code></Error>".encode() if code else b"")


def test_the_verdict_needs_the_right_value_taken_and_the_wrong_one_refused() -> None:
    assert _verdict("h", answer(200), answer(400, "BadDigest")).supported is True
    stored = _verdict("h", answer(200), answer(200))
    assert stored.supported is False and "200 OK (stored)" in stored.evidence
    refused = _verdict("h", answer(400, "InvalidRequest"), answer(400, "InvalidRequest"))
    assert refused.supported is False and "right" in refused.evidence
    assert _verdict("h", answer(200), answer(501, "NotImplemented")).supported is None
