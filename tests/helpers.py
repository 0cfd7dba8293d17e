"""Checks of server state through an independent boto3 client (not the code under test)."""

from __future__ import annotations

from typing import Any


def incomplete_uploads(boto: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    """Incomplete uploads of exactly ``key`` (every page), seen by an independent client."""
    found, markers = [], {}
    while True:
        page = boto.list_multipart_uploads(Bucket=bucket, Prefix=key, **markers)
        found += [u for u in page.get("Uploads", []) if u["Key"] == key]
        if not page.get("IsTruncated"):
            return found
        markers = {"KeyMarker": page["NextKeyMarker"],
                   "UploadIdMarker": page["NextUploadIdMarker"]}


def object_exists(boto: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        boto.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as exc:
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise


def wait_until(condition: Any, timeout: float = 30.0) -> Any:
    """Poll ``condition()`` until it is truthy (returns it) or fail after ``timeout`` s."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout}s")


def proxied_fs(proxy: Any, storage_options: dict[str, Any], **options: Any) -> Any:
    """A fresh MPUFileSystem that talks to the server through ``proxy``."""
    from mpu_toolkit import MPUFileSystem

    so = {**storage_options, "endpoint_url": proxy.endpoint_url}
    return MPUFileSystem(**so, skip_instance_cache=True, **options)
