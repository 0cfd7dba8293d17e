"""The doctor is safe on a production bucket: where it may not write, delete, list or abort
under its prefix it refuses, naming the permission, and runs nothing else; a missing bucket
or a URL without one is one clear error; what its clean-up could not remove is counted."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import proxied_fs

from mpu_toolkit import ConfigurationError, NoSuchBucket, doctor
from mpu_toolkit.testing.faults import FaultProxy

PROBES = {"UploadPart", "UploadPartCopy", "CompleteMultipartUpload", "PutBucketLifecycle",
          "GetObject", "HeadObject"}


@pytest.mark.parametrize("operation, permission", [
    ("PutObject", "s3:PutObject"), ("DeleteObject", "s3:DeleteObject"),
    ("CreateMultipartUpload", "s3:PutObject"),
    ("ListMultipartUploads", "s3:ListBucketMultipartUploads"),
    ("AbortMultipartUpload", "s3:AbortMultipartUpload"), ("ListObjects", "s3:ListBucket")])
def test_a_missing_permission_is_named_and_nothing_else_runs(
        operation: str, permission: str, proxy: FaultProxy, storage_options: dict[str, Any],
        bucket: str, boto: Any) -> None:
    proxy.fail(operation, "403")
    with pytest.raises(ConfigurationError, match=permission) as caught:
        doctor(f"mpu://{bucket}/denied-{operation}", fs=proxied_fs(proxy, storage_options))
    assert f"{operation.replace('ListObjects', 'ListObjectsV2')} was refused" in str(caught.value)
    assert not PROBES & set(proxy.seen), proxy.seen
    listed = boto.list_objects_v2(Bucket=bucket, Prefix=f"denied-{operation}/")
    assert listed["KeyCount"] == 0  # the clean-up removed what the check wrote
    uploads = boto.list_multipart_uploads(Bucket=bucket, Prefix=f"denied-{operation}/")
    assert uploads.get("Uploads", []) == []


def test_what_the_clean_up_could_not_remove_is_counted(proxy: FaultProxy,
                                                       storage_options: dict[str, Any],
                                                       bucket: str, boto: Any) -> None:
    proxy.fail("DeleteObject", "403", times=1000, after=1)  # the check's own delete passes
    report = doctor(f"mpu://{bucket}/undeletable", fs=proxied_fs(proxy, storage_options))
    listed = boto.list_objects_v2(Bucket=bucket, Prefix=report.prefix).get("Contents", [])
    try:
        assert report.left_behind["objects"] == len(listed) > 0
        assert report.left_behind["uploads"] == 0
    finally:
        for item in listed:
            boto.delete_object(Bucket=bucket, Key=item["Key"])


def test_a_missing_bucket_is_one_clear_error(storage_options: dict[str, Any]) -> None:
    with pytest.raises(NoSuchBucket, match="no-such-bucket-for-the-doctor") as caught:
        doctor("mpu://no-such-bucket-for-the-doctor/x", storage_options=storage_options)
    assert caught.value.operation == "PutObject"


@pytest.mark.parametrize("url", ["mpu://", "", "/prefix"])
def test_a_url_without_a_bucket_is_refused(url: str, storage_options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="names no bucket"):
        doctor(url, storage_options=storage_options)


def test_a_versioned_bucket_keeps_no_version_of_the_probes(storage_options: dict[str, Any],
                                                           own_bucket: str, boto: Any) -> None:
    boto.put_bucket_versioning(Bucket=own_bucket,
                               VersioningConfiguration={"Status": "Enabled"})
    report = doctor(f"mpu://{own_bucket}/versioned", storage_options=storage_options)
    assert dict(report.left_behind) == {"objects": 0, "uploads": 0}
    kept = boto.list_object_versions(Bucket=own_bucket, Prefix="versioned/")
    assert kept.get("Versions", []) == [] and kept.get("DeleteMarkers", []) == []
