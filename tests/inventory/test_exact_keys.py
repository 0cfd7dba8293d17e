"""The inventory on a store that lists uploads only by exact key (MinIO, emulated by
QuirkProxy("exact_key_listing")): uploads are looked up key by key, and the result says
plainly what that leaves unseen instead of reporting nothing."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, Iterator

import pytest

from mpu_toolkit import MPUFileSystem, uploads
from mpu_toolkit._s3.providers import PROVIDERS
from mpu_toolkit.inventory import exact_keys
from mpu_toolkit.inventory.exact_keys import Coverage
from mpu_toolkit.testing.quirks import QuirkProxy


@pytest.fixture
def minio(server: Any) -> Iterator[QuirkProxy]:
    """The test server behaving like MinIO's listing."""
    so = server.storage_options
    with QuirkProxy(server.endpoint_url, ["exact_key_listing"],
                    credentials=(so["key"], so["secret"])) as proxy:
        yield proxy


def fs_through(proxy: QuirkProxy, server: Any, provider: str | None) -> MPUFileSystem:
    return MPUFileSystem(**{**server.storage_options, "endpoint_url": proxy.endpoint_url},
                         provider=provider, skip_instance_cache=True)


@pytest.fixture
def layout(boto: Any, bucket: str, key: str) -> Iterator[dict[str, str]]:
    """Uploads of ``key/a`` and ``key/c`` (which have objects) and ``key/b`` (which has
    none): upload ids by name."""
    made = {}
    for name in "abc":
        if name != "b":
            boto.put_object(Bucket=bucket, Key=f"{key}/{name}", Body=b"object")
        made[name] = boto.create_multipart_upload(Bucket=bucket, Key=f"{key}/{name}")["UploadId"]
    yield made
    for name, upload_id in made.items():
        boto.abort_multipart_upload(Bucket=bucket, Key=f"{key}/{name}", UploadId=upload_id)


def test_the_minio_preset_finds_uploads_of_the_objects_keys_and_says_what_it_cannot_see(
        minio, server, bucket, key, layout):
    found = uploads.list(f"mpu://{bucket}/{key}/", fs=fs_through(minio, server, "minio"))
    assert sorted(found["upload_id"]) == sorted([layout["a"], layout["c"]])
    notice = found.attrs["notice"]
    assert "only by their exact key" in notice and "keys that have no object are not seen" \
        in notice
    assert "lifecycle rules cannot abort incomplete uploads" in notice  # MinIO's lack
    assert "stale_uploads_expiry" in notice


def test_a_url_naming_the_key_finds_its_uploads_without_an_object(minio, server, bucket, key,
                                                                  layout):
    found = uploads.list(f"mpu://{bucket}/{key}/b", fs=fs_through(minio, server, "minio"))
    assert list(found["upload_id"]) == [layout["b"]]


def test_the_generic_default_on_such_a_store_sees_nothing(minio, server, bucket, key, layout):
    """What the preset is for: listed by prefix, the store answers no upload."""
    found = uploads.list(f"mpu://{bucket}/{key}/", fs=fs_through(minio, server, None))
    assert found.empty and "notice" not in found.attrs


def test_the_keys_looked_up_are_bounded_and_the_notice_says_so(minio, server, bucket, key,
                                                               layout, monkeypatch):
    monkeypatch.setattr(exact_keys, "KEYS_LIMIT", 1)
    found = uploads.list(f"mpu://{bucket}/{key}/", fs=fs_through(minio, server, "minio"))
    assert list(found["upload_id"]) == [layout["a"]]
    assert f"only the first 1 keys under mpu://{bucket}/{key}/" in found.attrs["notice"]


def test_usage_and_the_streamed_listing_carry_the_notice(minio, server, bucket, key, layout):
    fs = fs_through(minio, server, "minio")
    usage = uploads.usage(f"mpu://{bucket}/{key}/", fs=fs)
    assert list(usage["uploads"]) == [2] and "only by their exact key" in usage.attrs["notice"]
    rows: list[Any] = []
    final = uploads.stream(f"mpu://{bucket}/{key}/", fs=fs, on_rows=rows.append,
                           stop=threading.Event())
    assert sorted(i for frame in rows for i in frame["upload_id"]) == \
        sorted([layout["a"], layout["c"]])
    assert final.done and final.notice is not None and "exact key" in final.notice


def test_stores_listing_by_prefix_get_no_notice(fs, bucket, key, layout):
    found = uploads.list(f"mpu://{bucket}/{key}/", fs=fs)
    assert len(found) == 3 and "notice" not in found.attrs


def test_where_lifecycle_rules_abort_uploads_the_notice_names_the_command():
    provider = dataclasses.replace(PROVIDERS["minio"], lifecycle=True)
    coverage = Coverage(provider, by_key={("bucket", "folder/")})
    notice = coverage.notice()
    assert notice is not None
    assert "`mpu lifecycle mpu://bucket/folder/ --set-days 7`" in notice
    assert Coverage(provider).notice() is None
