"""One doctor's run on the session's server, shared by the tests that read its report, and
buckets of their own for the tests that change a bucket's lifecycle configuration."""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest

from mpu_toolkit import DoctorReport, doctor


@pytest.fixture(scope="session")
def existing() -> tuple[str, bytes]:
    """An object that was there before the doctor came, under the prefix it is given."""
    return "doctor-area/existing.txt", b"not the doctor's"


@pytest.fixture(scope="session")
def report(storage_options: dict[str, Any], boto: Any, bucket: str,
           existing: tuple[str, bytes]) -> DoctorReport:
    boto.put_object(Bucket=bucket, Key=existing[0], Body=existing[1])
    return doctor(f"mpu://{bucket}/doctor-area", storage_options=storage_options)


@pytest.fixture
def own_bucket(boto: Any) -> Iterator[str]:
    """A new, empty bucket (its lifecycle configuration is the test's)."""
    name = f"mpu-doctor-{uuid.uuid4().hex[:10]}"
    boto.create_bucket(Bucket=name)
    yield name
    for page in boto.get_paginator("list_object_versions").paginate(Bucket=name):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            boto.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
    for upload in boto.list_multipart_uploads(Bucket=name).get("Uploads", []):
        boto.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    boto.delete_bucket(Bucket=name)
