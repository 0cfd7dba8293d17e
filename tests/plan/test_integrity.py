"""Per-part digests and ETag checks, against hashlib/base64 computed here."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mpu_toolkit._plan.integrity import (ChecksumMode, PartDigest, digest_part, etag_matches,
                                         etag_problem, multipart_etag)
from mpu_toolkit.errors import ConfigurationError


def s3_multipart_etag(parts: list[bytes]) -> str:
    """The documented S3 rule, written out independently."""
    h = hashlib.md5()
    for p in parts:
        h.update(hashlib.md5(p).digest())
    return f"{h.hexdigest()}-{len(parts)}"


@given(parts=st.lists(st.binary(max_size=64), min_size=1, max_size=12))
def test_multipart_etag_is_md5_of_part_md5s(parts: list[bytes]) -> None:
    md5s = [hashlib.md5(p).digest() for p in parts]
    assert multipart_etag(md5s) == s3_multipart_etag(parts)
    assert multipart_etag(md5s).endswith(f"-{len(parts)}")


def test_multipart_etag_known_value() -> None:
    # two parts "a" and "b": md5(md5("a") + md5("b")) computed here, not by the code under test
    joined = hashlib.md5(hashlib.md5(b"a").digest() + hashlib.md5(b"b").digest()).hexdigest()
    assert multipart_etag([hashlib.md5(b"a").digest(), hashlib.md5(b"b").digest()]) == \
        f"{joined}-2"


def test_multipart_etag_depends_on_order() -> None:
    a, b = hashlib.md5(b"a").digest(), hashlib.md5(b"b").digest()
    assert multipart_etag([a, b]) != multipart_etag([b, a])


def test_etag_matches_forms() -> None:
    md5 = hashlib.md5(b"hello").hexdigest()
    assert etag_matches(md5, md5) is True
    assert etag_matches(f'"{md5}"', md5) is True          # servers quote ETags
    assert etag_matches(f'"{md5.upper()}"', md5) is True  # and some shout
    assert etag_matches(f'  "{md5}" ', md5.upper()) is True
    other = hashlib.md5(b"world").hexdigest()
    assert etag_matches(f'"{other}"', md5) is False

    multi = s3_multipart_etag([b"x", b"y", b"z"])
    assert etag_matches(f'"{multi}"', multi) is True
    assert etag_matches(f'"{multi[:-1]}4"', multi) is False  # wrong part count


@pytest.mark.parametrize("etag", [None, "", '""', "abc", "not-an-md5-etag",
                                  "z" * 32, "0" * 31, "0" * 33, "0" * 32 + "-",
                                  "b5c6d2f1e8a04c7e9f1d3a2b6c8e0f4a7b9d1c3e"])  # 40 hex: SHA1
def test_etag_matches_unknown_forms_are_inconclusive(etag) -> None:
    assert etag_matches(etag, hashlib.md5(b"x").hexdigest()) is None


@given(data=st.binary(max_size=4096))
def test_content_md5_header(data: bytes) -> None:
    digest = digest_part(data, ChecksumMode.MD5)
    assert digest.md5 == hashlib.md5(data).digest()
    assert digest.content_md5 == base64.b64encode(hashlib.md5(data).digest()).decode()
    assert etag_problem(f'"{hashlib.md5(data).hexdigest()}"', digest.content_md5) is None


def test_digest_accepts_bytearray_and_memoryview() -> None:
    data = b"0123456789" * 100
    expected = hashlib.md5(data).digest()
    assert digest_part(bytearray(data), ChecksumMode.MD5).md5 == expected
    assert digest_part(memoryview(data), ChecksumMode.MD5).md5 == expected


@pytest.mark.parametrize("mode, algorithm", [
    (ChecksumMode.NONE, None), (ChecksumMode.CRC32, "CRC32"),
    (ChecksumMode.CRC32C, "CRC32C"), (ChecksumMode.SHA256, "SHA256"),
])
def test_flexible_modes_send_the_algorithm_not_an_md5(mode: ChecksumMode, algorithm) -> None:
    digest = digest_part(b"data", mode)
    assert digest == PartDigest() and digest.content_md5 is None
    assert mode.algorithm == algorithm


def test_etag_problem_says_why_an_answer_does_not_confirm_the_bytes() -> None:
    md5 = hashlib.md5(b"part").digest()
    header = base64.b64encode(md5).decode()
    assert etag_problem(f'"{md5.hex()}"', header) is None
    assert etag_problem(md5.hex().upper(), header) is None
    assert etag_problem("", header) == "the answer has no ETag"
    assert "is not the MD5" in etag_problem('"' + "0" * 32 + '"', header)
    assert etag_problem('"not-an-md5"', header) is None  # SSE-KMS style: inconclusive


@pytest.mark.parametrize("value, mode", [
    (None, ChecksumMode.NONE), (False, ChecksumMode.NONE), ("md5", ChecksumMode.MD5),
    ("MD5", ChecksumMode.MD5), ("Crc32C", ChecksumMode.CRC32C), ("none", ChecksumMode.NONE),
    (ChecksumMode.SHA256, ChecksumMode.SHA256),
])
def test_checksum_mode_parse(value, mode: ChecksumMode) -> None:
    assert ChecksumMode.parse(value) is mode


@pytest.mark.parametrize("bad", ["crc64", "sha1", "", "md-5", 5])
def test_checksum_mode_parse_errors(bad) -> None:
    with pytest.raises(ConfigurationError) as info:
        ChecksumMode.parse(bad)
    message = str(info.value)
    assert repr(bad) in message
    for choice in ("'md5'", "'none'", "'crc32'", "'crc32c'", "'sha256'"):
        assert choice in message


def test_algorithm_names() -> None:
    assert ChecksumMode.MD5.algorithm is None
    assert ChecksumMode.NONE.algorithm is None
    assert ChecksumMode.CRC32C.algorithm == "CRC32C"
