"""Each emulated store (testing.quirks.QuirkProxy in front of the test server): the matching
provider preset writes, lists and aborts correctly through it, and the generic default either
gets the data right or fails clearly (the bytes read back are the bytes written, or nothing
is published)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator

import pytest

from mpu_toolkit import MPUError, MPUFileSystem, ObjectExists, uploads
from mpu_toolkit._s3.providers import PROVIDERS
from mpu_toolkit.testing.quirks import QUIRKS, STORE_QUIRKS, Quirk, QuirkProxy
from helpers import incomplete_uploads, object_exists, self_signed_tls

MiB = 1 << 20
#: (preset, the quirks of its store): the stores of STORE_QUIRKS, and stores that ignore a
#: header, which no preset names (the generic default is theirs)
STORES = [(name, sorted(quirks)) for name, quirks in STORE_QUIRKS.items()]
STORES += [("s3-compatible", ["ignore_content_md5"]), ("s3-compatible", ["ignore_if_none_match"])]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    """A proxy's HTTPS context and the certificate clients verify it with."""
    return self_signed_tls(str(tmp_path_factory.mktemp("tls")))


@contextmanager
def store(server: Any, quirks: list[Quirk], provider: str | None,
          tls: tuple[Any, str] | None = None, **options: Any) -> Iterator[MPUFileSystem]:
    """A filesystem with ``provider`` (None: the generic default) and ``options`` talking to
    the test server through a QuirkProxy with ``quirks`` (over HTTPS with ``tls``)."""
    so = server.storage_options
    region = PROVIDERS[provider].region if provider else None
    with QuirkProxy(server.endpoint_url, quirks, credentials=(so["key"], so["secret"]),
                    region=region or "us-east-1", ssl_context=tls and tls[0]) as proxy:
        if tls:
            options["client_kwargs"] = {"verify": tls[1]}
        with pytest.warns(UserWarning) if provider and PROVIDERS[provider].endpoint \
                else _nothing():  # the preset's own endpoint is not the proxy's
            fs = MPUFileSystem(**{**so, **options, "endpoint_url": proxy.endpoint_url},
                               provider=provider, skip_instance_cache=True)
        yield fs


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def write(fs: MPUFileSystem, bucket: str, key: str, size: int = 15 * MiB + 12345) -> bytes:
    """``size`` bytes (3 parts of 5 MiB and a tail by default), written in uneven pieces."""
    data = os.urandom(size)
    with fs.open(f"mpu://{bucket}/{key}", "wb", part_size="5MiB") as f:
        for start in range(0, len(data), 3 * MiB + 17):
            f.write(data[start:start + 3 * MiB + 17])
    return data


def nothing_left(boto: Any, bucket: str, key: str) -> bool:
    """No object and no incomplete upload at ``key``."""
    return not object_exists(boto, bucket, key) and incomplete_uploads(boto, bucket, key) == []


def write_and_read_back(fs: MPUFileSystem, boto: Any, bucket: str, key: str) -> bytes | None:
    """:func:`write`, and the object read back (None if the write failed and nothing was
    published)."""
    try:
        data = write(fs, bucket, key)
    except MPUError:
        assert nothing_left(boto, bucket, key), "a failed write left an object or its upload"
        return None
    stored = boto.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == data, "the object read back is not the bytes written"
    return stored


@pytest.mark.parametrize("provider, quirks", STORES, ids=[f"{p}-{'+'.join(q)}"
                                                           for p, q in STORES])
def test_the_preset_writes_lists_and_aborts_through_its_store(server, boto, bucket, key,
                                                              provider, quirks):
    with store(server, quirks, provider) as fs:
        assert write_and_read_back(fs, boto, bucket, key) is not None
        upload_id = boto.create_multipart_upload(Bucket=bucket, Key=f"{key}-open")["UploadId"]
        boto.upload_part(Bucket=bucket, Key=f"{key}-open", UploadId=upload_id, PartNumber=1,
                         Body=b"x" * 100)
        listed = uploads.list(f"mpu://{bucket}/{key}-open", fs=fs)
        assert list(listed["upload_id"]) == [upload_id] and list(listed["bytes"]) == [100]
        aborted = uploads.abort(listed, fs=fs, force=True)
    assert list(aborted["outcome"]) == ["aborted"]
    assert incomplete_uploads(boto, bucket, f"{key}-open") == []


@pytest.mark.parametrize("quirk", QUIRKS)
def test_the_generic_default_loses_nothing(server, boto, bucket, key, quirk):
    with store(server, [quirk], None) as fs:
        assert write_and_read_back(fs, boto, bucket, key) is not None


@pytest.mark.parametrize("provider", [None, "gcs"])
@pytest.mark.parametrize("size", [100, 11 * MiB], ids=["put", "multipart"])
@pytest.mark.parametrize("appears", ["before open", "while writing"])
def test_exclusive_create_never_overwrites_where_if_none_match_is_ignored(
        server, boto, bucket, key, provider, size, appears):
    """Where the preset does not know the store honours If-None-Match (the generic default),
    or knows it does not on Complete, the key is HEADed at open and before publishing: an
    object there stays, and nothing is left behind."""
    if appears == "before open":
        boto.put_object(Bucket=bucket, Key=key, Body=b"old")
    with store(server, ["ignore_if_none_match"], provider) as fs:
        with pytest.raises(ObjectExists):
            with fs.open(f"mpu://{bucket}/{key}", "xb", part_size="5MiB") as f:
                f.write(os.urandom(size))
                if appears == "while writing":
                    boto.put_object(Bucket=bucket, Key=key, Body=b"old")
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == b"old"
    assert incomplete_uploads(boto, bucket, key) == []


@pytest.mark.parametrize("provider", ["r2", "yandex", None])
def test_over_https_no_trailer_goes_to_a_store_that_refuses_them(server, boto, bucket, key, tls,
                                                                 provider):
    """botocore sends flexible checksums as aws-chunked trailers over HTTPS only: through an
    HTTPS proxy, the presets and the generic default send none."""
    quirks = sorted(STORE_QUIRKS[provider]) if provider else ["no_trailers"]
    with store(server, quirks, provider, tls) as fs:
        assert write_and_read_back(fs, boto, bucket, key) is not None


@pytest.mark.parametrize("size", [100, 11 * MiB], ids=["put", "multipart"])
def test_over_https_trailers_a_store_refuses_fail_clearly(server, boto, bucket, key, tls,
                                                          size):
    """Asked for botocore's own flexible checksums, botocore trailers them: the store's
    refusal is permanent (not retried), names the setting that avoids it, and leaves
    nothing behind."""
    options = {"config_kwargs": {"request_checksum_calculation": "when_supported"}}
    with store(server, ["no_trailers"], None, tls, **options) as fs:
        with pytest.raises(MPUError, match="aws-chunked checksum trailers") as info:
            write(fs, bucket, key, size)
    assert not info.value.transient
    assert nothing_left(boto, bucket, key)


@pytest.mark.parametrize("mode", ["crc32", "crc32c", "crc64nvme", "sha256"])
@pytest.mark.parametrize("size", [100, 11 * MiB], ids=["put", "multipart"])
def test_over_https_every_checksum_mode_is_a_header_not_a_trailer(server, boto, bucket, key,
                                                                  tls, mode, size):
    """mpu_toolkit computes each flexible checksum itself and sends it as a header, so a
    store that refuses trailers takes it over HTTPS too (botocore's own would trailer it)."""
    with store(server, ["no_trailers"], None, tls, checksum=mode) as fs:
        data = write(fs, bucket, key, size)
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data


@pytest.mark.parametrize("provider", ["r2", None])
def test_compose_on_an_equal_parts_store(server, boto, bucket, key, provider):
    """Sources of 6 MiB and 7 MiB: R2's preset composes them as equal parts (a part across
    the two is uploaded); the generic default's part per source is refused at Complete, with
    the preset named, and nothing is left."""
    a, b = os.urandom(6 * MiB), os.urandom(7 * MiB + 5)
    boto.put_object(Bucket=bucket, Key=f"{key}/a", Body=a)
    boto.put_object(Bucket=bucket, Key=f"{key}/b", Body=b)
    with store(server, ["equal_parts"], provider) as fs:
        compose = lambda: fs.compose([f"mpu://{bucket}/{key}/a", f"mpu://{bucket}/{key}/b"],
                                     f"mpu://{bucket}/{key}/out", part_size="5MiB")
        if provider:
            compose()
        else:
            with pytest.raises(MPUError, match="provider='r2'"):
                compose()
    if provider:
        assert boto.get_object(Bucket=bucket, Key=f"{key}/out")["Body"].read() == a + b
    else:
        assert nothing_left(boto, bucket, f"{key}/out")


@pytest.mark.parametrize("provider", ["r2", None])
def test_append_on_an_equal_parts_store(server, boto, bucket, key, provider):
    """Appending to a 12 MiB object: R2's preset copies parts of the writer's size and
    writes the rest first; the generic default's one copied part is refused at Complete,
    and the object appended to is left as it was."""
    old, more = os.urandom(12 * MiB + 7), os.urandom(11 * MiB)
    boto.put_object(Bucket=bucket, Key=key, Body=old)
    with store(server, ["equal_parts"], provider) as fs:
        append = fs.open(f"mpu://{bucket}/{key}", "ab", part_size="5MiB")
        append.write(more)
        if provider:
            append.close()
        else:
            with pytest.raises(MPUError, match="provider='r2'"):
                append.close()
    stored = boto.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == (old + more if provider else old)
    assert incomplete_uploads(boto, bucket, key) == []
