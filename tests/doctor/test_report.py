"""The report: its JSON shape (issue 26's), its table, its HTML (escaped), and what it
recommends from the facts."""

from __future__ import annotations

import json

import pytest

from mpu_toolkit import DoctorReport
from mpu_toolkit.doctor.context import Capability
from mpu_toolkit.doctor.report import evidence, recommend

YES, NO, UNKNOWN = Capability(True, "yes"), Capability(False, "no"), Capability(None, "?")


def made(**capabilities: Capability) -> DoctorReport:
    return DoctorReport("http://127.0.0.1:9", "b", None, capabilities, recommend(capabilities),
                        {"objects": 0, "uploads": 0}, 1.234, prefix="p/")


def test_the_json_shape_is_the_issue_s(report: DoctorReport) -> None:
    shape = json.loads(json.dumps(report.to_dict()))
    assert {"endpoint", "bucket", "provider", "capabilities", "recommended",
            "left_behind"} <= set(shape)
    assert set(shape["left_behind"]) == {"objects", "uploads"}
    for found in shape["capabilities"].values():
        assert set(found) == {"supported", "evidence"}


def test_the_table_has_a_row_per_capability(report: DoctorReport) -> None:
    frame = report.to_frame()
    assert list(frame.columns) == ["capability", "supported", "evidence"]
    assert list(frame["capability"]) == list(report.capabilities)


def test_the_html_table_escapes_the_evidence() -> None:
    html = made(multipart=Capability(True, "<Code>x</Code> & more"))._repr_html_()
    assert "&lt;Code&gt;x&lt;/Code&gt; &amp; more" in html and "<Code>" not in html
    assert "<td><code>multipart</code></td>" in html


@pytest.mark.parametrize("verified, checksum", [
    ({"crc64nvme_verified", "crc32c_verified", "sha256_payload_verified"}, "crc64nvme"),
    ({"crc32c_verified", "sha256_payload_verified"}, "crc32c"),
    ({"sha256_payload_verified", "content_md5_verified"}, "sha256-payload"),
    ({"content_md5_verified"}, "md5"), (set(), "md5")])
def test_the_fastest_verified_checksum_is_recommended(verified: set[str],
                                                      checksum: str) -> None:
    names = ("crc64nvme_verified", "crc32c_verified", "sha256_payload_verified",
             "content_md5_verified")
    found = {n: (YES if n in verified else NO) for n in names}
    assert recommend(found)["checksum"] == checksum


def test_only_measured_facts_are_recommended() -> None:
    found = recommend({"if_none_match_put": YES, "if_none_match_complete": NO,
                       "if_match_put": UNKNOWN, "list_uploads_by_prefix": NO,
                       "path_style": YES, "virtual_hosted_style": YES})
    assert found == {"checksum": "md5", "if_none_match_put": True,
                     "if_none_match_complete": False, "list_uploads_by_prefix": False,
                     "addressing": "path"}


def test_the_preset_s_addressing_is_kept_where_the_store_takes_it() -> None:
    both = {"path_style": YES, "virtual_hosted_style": YES}
    assert recommend(both, "virtual")["addressing"] == "virtual"
    assert recommend({**both, "virtual_hosted_style": NO}, "virtual")["addressing"] == "path"
    assert "addressing" not in recommend({"path_style": NO, "virtual_hosted_style": UNKNOWN})


def test_each_recommended_field_names_the_measurement_that_set_it() -> None:
    found = {"sha256_payload_verified": Capability(True, "400 XAmzContentSHA256Mismatch"),
             "crc32c_verified": NO, "if_none_match_complete": Capability(False, "completed"),
             "if_match_put": UNKNOWN, "path_style": Capability(True, "HEAD /b/k: 200 OK"),
             "virtual_hosted_style": NO}
    lines = evidence(found, recommend(found))
    assert lines == {"checksum": "sha256_payload_verified: 400 XAmzContentSHA256Mismatch",
                     "if_none_match_complete": "if_none_match_complete: completed",
                     "addressing": "path_style: HEAD /b/k: 200 OK"}


def test_md5_says_no_faster_mode_was_verified() -> None:
    found = {"crc32c_verified": NO, "content_md5_verified": Capability(True, "400 BadDigest")}
    line = evidence(found, recommend(found))["checksum"]
    assert line.startswith("none of crc64nvme_verified, crc32c_verified, "
                           "sha256_payload_verified verified: md5")
    assert line.endswith("content_md5_verified: 400 BadDigest")
