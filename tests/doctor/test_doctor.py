"""``mpu_toolkit.doctor`` on the session's server (moto, or Ceph RGW in CI): every probe is
named, the facts agree with what was measured by hand, nothing is left behind (checked by an
independent client), keys that were there stay as they were, and it takes seconds."""

from __future__ import annotations

from typing import Any

import pytest

from mpu_toolkit import DoctorReport, doctor
from mpu_toolkit.doctor import NAMES

#: the probes issue 26 names, spelled as it spells them
ISSUE_NAMES = {"multipart", "list_uploads_by_prefix", "list_parts", "upload_part_copy",
               "content_md5_verified", "sha256_payload_verified", "crc32c_verified",
               "crc64nvme_verified", "aws_chunked_trailer", "if_none_match_put",
               "if_none_match_complete", "if_match_put", "copy_source_if_match",
               "min_part_size_enforced", "lifecycle_abort_incomplete", "abort_date_reported",
               "etag_is_md5", "path_style", "virtual_hosted_style", "clock_skew"}

#: what was measured by hand (tests, ceph's and moto's presets), per server
KNOWN = {
    "moto": {"multipart": True, "list_parts": True, "list_uploads_by_prefix": True,
             "upload_part_copy": True, "if_none_match_put": True,
             "if_none_match_complete": True, "if_match_put": True,
             "copy_source_if_match": False, "min_part_size_enforced": True,
             "equal_parts_required": False, "etag_is_md5": True, "path_style": True,
             "clock_skew": True, "content_md5_verified": False, "crc32c_verified": False},
    "rgw": {"multipart": True, "list_parts": True, "list_uploads_by_prefix": True,
            "upload_part_copy": True, "if_none_match_put": True,
            "if_none_match_complete": False, "if_match_put": True,
            "copy_source_if_match": False, "min_part_size_enforced": True,
            "equal_parts_required": False, "etag_is_md5": True, "path_style": True,
            "clock_skew": True, "content_md5_verified": True, "sha256_payload_verified": True,
            "aws_chunked_trailer": False},
}


def test_every_named_probe_is_reported(report: DoctorReport) -> None:
    assert set(report.capabilities) == ISSUE_NAMES | {"equal_parts_required"} == set(NAMES)
    for name, found in report.capabilities.items():
        assert found.supported in (True, False, None), name
        assert found.evidence and "\n" not in found.evidence, name


def test_the_facts_agree_with_what_was_measured_by_hand(report: DoctorReport,
                                                        server: Any) -> None:
    if server.name not in KNOWN:
        pytest.skip(f"no hand-measured facts for {server.name}")
    measured = {name: report.capabilities[name].supported for name in KNOWN[server.name]}
    assert measured == KNOWN[server.name], {
        n: report.capabilities[n].evidence for n in KNOWN[server.name]
        if measured[n] != KNOWN[server.name][n]}


def test_the_evidence_names_the_request_and_the_answer(report: DoctorReport,
                                                       server: Any) -> None:
    assert "If-None-Match: *: 412" in report.capabilities["if_none_match_put"].evidence
    assert "EntityTooSmall" in report.capabilities["min_part_size_enforced"].evidence
    assert "s from this machine's" in report.capabilities["clock_skew"].evidence
    md5 = report.capabilities["content_md5_verified"].evidence
    assert ("400 BadDigest" in md5) if server.is_rgw else ("200 OK (stored)" in md5)


def test_it_says_how_this_client_sends_parts(report: DoctorReport) -> None:
    # both test servers are plain HTTP on 127.0.0.1: the part path serves them
    assert report.part_route == "part path"
    assert report.to_dict()["part_route"] == "part path"
    assert "UploadPart via part path" in report._repr_html_()


def test_nothing_is_left_behind_by_an_independent_count(report: DoctorReport, boto: Any,
                                                        bucket: str) -> None:
    assert dict(report.left_behind) == {"objects": 0, "uploads": 0}
    assert report.prefix.startswith("doctor-area/.mpu-doctor-") and report.prefix[-1] == "/"
    assert boto.list_objects_v2(Bucket=bucket, Prefix=report.prefix)["KeyCount"] == 0
    uploads = boto.list_multipart_uploads(Bucket=bucket, Prefix="doctor-area/")
    assert uploads.get("Uploads", []) == []


def test_the_keys_that_were_there_are_untouched(report: DoctorReport, boto: Any, bucket: str,
                                                existing: tuple[str, bytes]) -> None:
    listed = boto.list_objects_v2(Bucket=bucket, Prefix="doctor-area/")
    assert [item["Key"] for item in listed.get("Contents", [])] == [existing[0]]
    assert boto.get_object(Bucket=bucket, Key=existing[0])["Body"].read() == existing[1]


def test_it_takes_seconds(report: DoctorReport) -> None:
    assert 0 < report.seconds < 30


def test_the_recommendation_follows_the_facts(report: DoctorReport, server: Any) -> None:
    recommended = report.recommended
    assert recommended["if_none_match_complete"] is (not server.is_rgw)
    assert recommended["copy_source_if_match"] is False
    assert recommended["addressing"] == "path"
    assert recommended["checksum"] == ("sha256-payload" if server.is_rgw else "md5")


def test_the_report_names_the_endpoint_bucket_and_no_preset_for_a_local_server(
        report: DoctorReport, storage_options: dict[str, Any], bucket: str) -> None:
    assert (report.endpoint, report.bucket) == (storage_options["endpoint_url"], bucket)
    assert report.provider is None


def test_a_named_provider_is_the_report_s(storage_options: dict[str, Any], bucket: str,
                                          server: Any) -> None:
    name = "ceph" if server.is_rgw else "moto"
    found = doctor(f"{bucket}/named", storage_options={**storage_options, "provider": name})
    assert found.provider == name and dict(found.left_behind) == {"objects": 0, "uploads": 0}


# -- lifecycle rules: never rewritten ----------------------------------------------------------
def _rules(boto: Any, bucket: str) -> list[dict[str, Any]] | None:
    try:
        return list(boto.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"])
    except boto.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
        return None


def test_a_bucket_without_rules_is_left_without_rules(storage_options: dict[str, Any],
                                                      own_bucket: str, boto: Any) -> None:
    found = doctor(f"mpu://{own_bucket}", storage_options=storage_options)
    assert found.capabilities["lifecycle_abort_incomplete"].supported is True
    assert "read back" in found.capabilities["lifecycle_abort_incomplete"].evidence
    assert _rules(boto, own_bucket) is None


def test_an_abort_rule_is_read_and_kept(storage_options: dict[str, Any], own_bucket: str,
                                        boto: Any) -> None:
    rule = {"ID": "theirs", "Status": "Enabled", "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}}
    boto.put_bucket_lifecycle_configuration(Bucket=own_bucket,
                                            LifecycleConfiguration={"Rules": [rule]})
    before = _rules(boto, own_bucket)
    found = doctor(f"mpu://{own_bucket}/p", storage_options=storage_options)
    assert found.capabilities["lifecycle_abort_incomplete"].supported is True
    assert "'theirs'" in found.capabilities["lifecycle_abort_incomplete"].evidence
    assert found.capabilities["abort_date_reported"].supported in (True, False)
    assert _rules(boto, own_bucket) == before


def test_other_rules_are_not_rewritten(storage_options: dict[str, Any], own_bucket: str,
                                       boto: Any) -> None:
    rule = {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
            "Expiration": {"Days": 30}}
    boto.put_bucket_lifecycle_configuration(Bucket=own_bucket,
                                            LifecycleConfiguration={"Rules": [rule]})
    before = _rules(boto, own_bucket)
    found = doctor(f"mpu://{own_bucket}/p", storage_options=storage_options)
    lifecycle = found.capabilities["lifecycle_abort_incomplete"]
    assert lifecycle.supported is None and "will not rewrite" in lifecycle.evidence
    assert found.capabilities["abort_date_reported"].supported is None
    assert _rules(boto, own_bucket) == before
