"""Per-part digests and ETag checks, against hashlib/base64 computed here."""

from __future__ import annotations

import base64
import hashlib
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mpu_toolkit._plan.integrity import (GENERIC_DEFAULT, ChecksumMode, ChecksumName, PartDigest,
                                         answer_problem, checksum_problem, digest_part,
                                         etag_matches, etag_problem, multipart_etag)
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


# check values of "123456789" from the CRC catalogue (reveng.sourceforge.io), not the code
CHECK = b"123456789"


def _b64(value: int, width: int) -> str:
    return base64.b64encode(value.to_bytes(width, "big")).decode()


@pytest.mark.parametrize("mode, header, value", [
    (ChecksumMode.CRC32, "ChecksumCRC32", _b64(0xCBF43926, 4)),
    (ChecksumMode.CRC32C, "ChecksumCRC32C", _b64(0xE3069283, 4)),
    (ChecksumMode.CRC64NVME, "ChecksumCRC64NVME", _b64(0xAE8B14860A799888, 8)),
    (ChecksumMode.SHA256, "ChecksumSHA256",
     base64.b64encode(hashlib.sha256(CHECK).digest()).decode()),
])
def test_flexible_modes_send_their_checksum_not_an_md5(mode: ChecksumMode, header: str,
                                                       value: str) -> None:
    digest = digest_part(CHECK, mode)
    assert digest.checksum == (header, value)
    assert digest.content_md5 is None and digest.payload_sha256 is None
    assert mode.algorithm == header.removeprefix("Checksum")


def test_sha256_payload_is_the_hex_hash_to_sign() -> None:
    digest = digest_part(memoryview(b"part"), ChecksumMode.SHA256_PAYLOAD)
    assert digest == PartDigest(payload_sha256=hashlib.sha256(b"part").hexdigest())
    assert ChecksumMode.SHA256_PAYLOAD.algorithm is None


def test_none_sends_nothing() -> None:
    assert digest_part(b"data", ChecksumMode.NONE) == PartDigest()


@pytest.mark.parametrize("verified, mode", [
    (None, GENERIC_DEFAULT), ("crc64nvme", ChecksumMode.CRC64NVME),
    ("sha256-payload", ChecksumMode.SHA256_PAYLOAD)])
def test_auto_is_what_the_store_verifies_else_the_generic_default(verified, mode) -> None:
    assert ChecksumMode.AUTO.for_store(verified) is mode
    assert ChecksumMode.NONE.for_store(verified) is ChecksumMode.NONE  # a choice is kept
    assert GENERIC_DEFAULT is ChecksumMode.MD5  # checked client-side too (the ETag)


def test_an_echoed_checksum_must_be_the_one_sent() -> None:
    sent = digest_part(CHECK, ChecksumMode.CRC32C).checksum
    assert checksum_problem(sent, {"ChecksumCRC32C": sent[1]}) is None
    assert checksum_problem(sent, {}) is None  # the store echoes nothing: cannot tell
    assert "not " + sent[1] in checksum_problem(sent, {"ChecksumCRC32C": "AAAAAA=="})


def test_answer_problem_reads_the_headers_sent() -> None:
    md5 = base64.b64encode(hashlib.md5(b"p").digest()).decode()
    crc = _b64(0xE3069283, 4)
    assert answer_problem({"Content-MD5": md5}, {"ETag": hashlib.md5(b"p").hexdigest()}) is None
    assert "not the MD5" in answer_problem({"Content-MD5": md5}, {"ETag": "0" * 32})
    assert answer_problem({"x-amz-checksum-crc32c": crc}, {"ChecksumCRC32C": crc}) is None
    assert "ChecksumCRC32C" in answer_problem({"X-Amz-Checksum-CRC32C": crc},
                                              {"ChecksumCRC32C": "AAAAAA=="})
    assert answer_problem({"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, {"ETag": "x"}) is None


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
    (ChecksumMode.SHA256, ChecksumMode.SHA256), (True, ChecksumMode.AUTO),
    ("auto", ChecksumMode.AUTO), ("sha256-payload", ChecksumMode.SHA256_PAYLOAD),
    ("SHA256_PAYLOAD", ChecksumMode.SHA256_PAYLOAD), ("crc64nvme", ChecksumMode.CRC64NVME),
])
def test_checksum_mode_parse(value, mode: ChecksumMode) -> None:
    assert ChecksumMode.parse(value) is mode


@pytest.mark.parametrize("bad", ["crc64", "sha1", "", "md-5", 5])
def test_checksum_mode_parse_errors(bad) -> None:
    with pytest.raises(ConfigurationError) as info:
        ChecksumMode.parse(bad)
    message = str(info.value)
    assert repr(bad) in message
    for choice in ("'auto'", "'md5'", "'sha256-payload'", "'crc32c'", "'crc64nvme'", "'none'",
                   "'crc32'", "'sha256'"):
        assert choice in message


def test_algorithm_names() -> None:
    assert ChecksumMode.MD5.algorithm is None
    assert ChecksumMode.NONE.algorithm is None
    assert ChecksumMode.CRC32C.algorithm == "CRC32C"


def test_the_typed_names_are_the_modes() -> None:
    assert set(get_args(ChecksumName)) == {mode.value for mode in ChecksumMode}
