"""The doctor detects each quirk the QuirkProxy emulates (mpu_toolkit/testing/quirks.py), in
front of the session's server, and still leaves nothing behind through it."""

from __future__ import annotations

from typing import Any

import pytest

from mpu_toolkit import DoctorReport, doctor
from mpu_toolkit._s3.providers import PROVIDERS
from mpu_toolkit.testing.quirks import QUIRKS, STORE_QUIRKS, Quirk, QuirkProxy

#: per quirk: what the doctor reports (capability -> supported, and words of its evidence)
DETECTED: dict[Quirk, dict[str, tuple[bool | None, str]]] = {
    "exact_key_listing": {"list_uploads_by_prefix": (False, "not found; by the exact key: "
                                                            "found")},
    "equal_parts": {"equal_parts_required": (True, "400 InvalidPart")},
    "no_trailers": {"aws_chunked_trailer": (False, "400 XAmzContentSHA256Mismatch")},
    "no_crc64nvme": {"crc64nvme_verified": (False, "right x-amz-checksum-crc64nvme: 501 "
                                                   "NotImplemented")},
    "ignore_content_md5": {"content_md5_verified": (False, "200 OK (stored)")},
    "ignore_if_none_match": {"if_none_match_put": (False, "200 OK"),
                             "if_none_match_complete": (False, "completed")},
    "ignore_if_match": {"if_match_put": (False, "200 OK")},
    "no_flexible_checksums": {"crc32c_verified": (False, "(stored)"),
                              "crc64nvme_verified": (False, "(stored)")},
}


def through(quirks: frozenset[Quirk], server: Any, bucket: str, boto: Any) -> DoctorReport:
    """The doctor's report through a QuirkProxy with ``quirks``; nothing left behind."""
    so = server.storage_options
    with QuirkProxy(server.endpoint_url, quirks, credentials=(so["key"], so["secret"])) as proxy:
        report = doctor(f"mpu://{bucket}/quirks", storage_options={
            **so, "endpoint_url": proxy.endpoint_url, "skip_instance_cache": True})
    assert dict(report.left_behind) == {"objects": 0, "uploads": 0}
    assert boto.list_objects_v2(Bucket=bucket, Prefix=report.prefix)["KeyCount"] == 0
    assert boto.list_multipart_uploads(Bucket=bucket, Prefix="quirks/").get("Uploads", []) == []
    return report


def test_every_quirk_has_its_detection() -> None:
    assert set(DETECTED) == set(QUIRKS)


@pytest.mark.parametrize("quirk", sorted(DETECTED))
def test_the_doctor_detects_the_quirk(quirk: Quirk, server: Any, bucket: str,
                                      boto: Any) -> None:
    report = through(frozenset({quirk}), server, bucket, boto)
    for name, (supported, words) in DETECTED[quirk].items():
        found = report.capabilities[name]
        assert (found.supported, words in found.evidence) == (supported, True), found


@pytest.mark.parametrize("store", sorted(STORE_QUIRKS))
def test_the_doctor_agrees_with_the_preset_of_each_emulated_store(store: str, server: Any,
                                                                  bucket: str,
                                                                  boto: Any) -> None:
    """What the emulation makes the store do, the doctor measures as its preset says."""
    preset, quirks = PROVIDERS[store], STORE_QUIRKS[store]
    report = through(quirks, server, bucket, boto)
    measured = report.recommended
    if "exact_key_listing" in quirks:
        assert measured["list_uploads_by_prefix"] is preset.list_uploads_by_prefix is False
    if "equal_parts" in quirks:
        assert measured["equal_parts"] is preset.equal_parts is True
    if "ignore_if_none_match" in quirks:
        assert measured["if_none_match_complete"] is preset.if_none_match_complete is False
    if "no_trailers" in quirks:
        assert report.capabilities["aws_chunked_trailer"].supported is False
    assert measured["checksum"] in ("md5", "sha256-payload")
