"""Bad input: one clear exception naming the problem and the fix, and nothing half-written.

(Modes, non-bytes writes, writes after close, misspelled options, a missing bucket and an
unreachable endpoint are covered beside the code they concern, in test_filesystem.py and
test_options.py; this file has the rest of the list.)
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from helpers import incomplete_uploads, object_exists

import mpu_toolkit
from mpu_toolkit import (ConfigurationError, CredentialsError, InvalidName, MPUFileSystem,
                         TooManyPartsError, upload_file, write_csv)
from mpu_toolkit._plan.sizing import MiB, PartLimits

PART = 5 * MiB


def write(fs: MPUFileSystem, path: str, data: bytes, **options: Any) -> None:
    with fs.open(path, "wb", **options) as f:
        f.write(data)


@pytest.mark.parametrize("name", ["Bad_Bucket!", "a" * 300])
def test_bucket_names_botocore_refuses(fs, key, name):
    with pytest.raises(InvalidName, match="bucket names are 3-63 characters"):
        write(fs, f"{name}/{key}", b"x")


@pytest.mark.parametrize("name", ["ab", "Upper-Case", "under_score"])
def test_bucket_names_s3_refuses_say_why(fs, key, name):
    # valid for botocore, not for S3: the server says the bucket does not exist (or that
    # the name is invalid); either way the error explains the naming rule
    with pytest.raises(InvalidName, match=f"'{name}' is not a valid name|bucket names are"):
        write(fs, f"{name}/{key}", b"x" * (PART + 1), part_size=PART)


def test_a_key_over_1024_bytes_is_refused_before_any_request(fs, bucket, boto):
    key = "é" * 600  # 1,200 bytes of UTF-8
    with pytest.raises(InvalidName, match="at most 1,024 bytes"):
        write(fs, f"{bucket}/{key}", b"x")
    assert incomplete_uploads(boto, bucket, key[:100]) == []


@pytest.mark.parametrize("path", ["", "bucket-only", "bucket-only/"])
def test_a_path_without_a_key_is_refused(fs, path):
    with pytest.raises(ConfigurationError, match="is not an object: give 'bucket/key'"):
        fs.open(path, "wb")


@pytest.mark.parametrize("options, message", [
    ({"part_size": "1MiB"}, "outside the allowed 5 MiB..5 GiB"),
    ({"part_size": "6GiB"}, "outside the allowed 5 MiB..5 GiB"),
    ({"concurrency": 0}, "must be an integer from 1 to 64"),
    ({"concurrency": 1000}, "must be an integer from 1 to 64"),
    ({"max_attempts": 0}, "must be an integer from 1 to 100"),
    ({"checksum": "md6"}, "is not supported: use one of"),
])
def test_out_of_range_options_are_refused_at_open(fs, bucket, key, options, message):
    with pytest.raises(ConfigurationError, match=message):
        fs.open(f"{bucket}/{key}", "wb", **options)
    with pytest.raises(ConfigurationError, match=message):  # and as storage_options
        MPUFileSystem(**{**fs.storage_options, **options}, skip_instance_cache=True)


def test_forcing_more_parts_than_allowed_fails_before_the_extra_part(fs, bucket, key, boto):
    limits = PartLimits(max_parts=3)
    with pytest.raises(TooManyPartsError, match="at most 3 parts.*larger part_size"):
        with fs.open(f"{bucket}/{key}", "wb", part_size=PART, part_size_policy="equal",
                     limits=limits) as f:
            for _ in range(4):
                f.write(os.urandom(PART))
            f.write(b"one byte too many")
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_a_declared_size_that_is_exceeded_is_refused(fs, bucket, key, boto):
    with pytest.raises(Exception, match="more bytes than the declared size"):
        with fs.open(f"{bucket}/{key}", "wb", size=PART + 10, part_size=PART) as f:
            f.write(os.urandom(PART + 11))
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_missing_credentials_say_where_to_put_them(storage_options, bucket, key, monkeypatch,
                                                   tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # loopback only: no IMDS lookup
    fs = MPUFileSystem(endpoint_url=storage_options["endpoint_url"], skip_instance_cache=True)
    with pytest.raises(CredentialsError, match="no credentials were found") as info:
        write(fs, f"{bucket}/{key}", b"x")
    # what to do, in Python and in a shell
    assert "pass key= and secret=" in str(info.value) and "AWS_ACCESS_KEY_ID" in str(info.value)


def test_wrong_credentials_are_named_as_such(server, storage_options, bucket, key, boto):
    if server.is_moto:
        pytest.skip("moto does not check request signatures: any key and secret are accepted")
    fs = MPUFileSystem(**{**storage_options, "secret": "not-the-secret"},
                       skip_instance_cache=True)
    with pytest.raises(CredentialsError, match="SignatureDoesNotMatch|InvalidAccessKeyId") as info:
        write(fs, f"{bucket}/{key}", os.urandom(PART + 1), part_size=PART)
    # told apart from missing credentials: the advice is about the secret that was given
    assert "the secret does not match the access key id" in str(info.value)
    assert "no credentials were found" not in str(info.value)
    assert incomplete_uploads(boto, bucket, key) == []


def test_frames_that_are_not_frames_are_refused_with_the_fix(storage_options, bucket, key,
                                                             boto):
    with pytest.raises(TypeError, match="DataFrame"):
        write_csv([{"a": 1}], f"{bucket}/{key}", storage_options=storage_options)
    assert not object_exists(boto, bucket, key)


def test_upload_file_with_bad_options_sends_nothing(fs, bucket, key, boto, tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)
    with pytest.raises(ConfigurationError, match="did you mean 'concurrency'"):
        upload_file(path, f"{bucket}/{key}", fs=fs, concurency=4)
    assert not object_exists(boto, bucket, key)


@pytest.mark.parametrize("how", ["MPUFileSystem", "fsspec.open", "pandas", "fs.open",
                                 "open_writer"])
def test_a_misspelled_option_is_refused_on_every_path_naming_the_right_one(
        how, storage_options, bucket, key, boto):
    import fsspec
    import pandas as pd

    url = f"mpu://{bucket}/{key}"
    with pytest.raises(ConfigurationError, match="'part_sise'.*did you mean 'part_size'"):
        if how == "MPUFileSystem":
            MPUFileSystem(**storage_options, part_sise="8MiB")
        elif how == "fsspec.open":
            fsspec.open(url, "wb", part_sise="8MiB", **storage_options).open()
        elif how == "pandas":
            pd.DataFrame({"a": [1]}).to_csv(url, storage_options={**storage_options,
                                                                  "part_sise": "8MiB"})
        elif how == "fs.open":
            MPUFileSystem(**storage_options).open(url, "wb", part_sise="8MiB")
        else:
            mpu_toolkit.open_writer(url, storage_options=storage_options, part_sise="8MiB")
    assert not object_exists(boto, bucket, key)


@pytest.mark.parametrize("typo, meant", [("compresion", "compression"), ("seperator", "sep"),
                                         ("delimiter", "sep"), ("row_group_sise",
                                                                "row_group_size")])
def test_suggestions_are_only_close_names(typo, meant, storage_options, bucket, key):
    import pandas as pd

    writer = mpu_toolkit.write_csv if meant == "sep" else mpu_toolkit.write_parquet
    with pytest.raises(ConfigurationError) as info:
        writer(pd.DataFrame({"a": [1]}), f"mpu://{bucket}/{key}",
               storage_options=storage_options, **{typo: "x"})
    assert f"did you mean {meant!r}" in str(info.value)


def test_a_name_far_from_every_option_gets_no_guess(storage_options):
    with pytest.raises(ConfigurationError) as info:
        MPUFileSystem(**storage_options, zebra=1)
    assert "did you mean" not in str(info.value) and "endpoint_url" in str(info.value)


def test_fsspec_block_size_works_where_the_readme_says(storage_options, bucket, key, boto):
    import fsspec

    url = f"mpu://{bucket}/{key}"
    with fsspec.open(url, "wb", block_size=6 << 20, **storage_options) as f:
        f.write(os.urandom(13 << 20))
    assert [p.size for p in f.parts] == [6 << 20, 6 << 20, 1 << 20]
    with fsspec.open(url, "rb", block_size=1 << 20, **storage_options) as f:  # a read size
        assert len(f.read()) == 13 << 20
