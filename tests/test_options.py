"""WriteOptions: loose keywords in, one validated bundle out."""

from __future__ import annotations

import dataclasses

import pytest

from mpu_toolkit.errors import ConfigurationError
from mpu_toolkit._plan.integrity import ChecksumMode
from mpu_toolkit.options import (CopyOptions, CopyOptionsDict, OpenWriterOptions,
                                 S3RequestParameters, WriteOptions, WriteOptionsDict,
                                 _create_parameters)
from mpu_toolkit._s3.retry import RetryPolicy
from mpu_toolkit._plan.sizing import (FixedPartSizer, GiB, GrowingPartSizer, MiB, PartLimits, TiB,
                                capacity)


def test_defaults() -> None:
    opts = WriteOptions()
    assert opts.part_size == 6 * MiB
    assert opts.checksum is ChecksumMode.AUTO
    assert opts.concurrency == 16 and opts.memory_limit == 128 * MiB
    assert opts.memory_bound == 17 * 6 * MiB  # 16 in flight and one filling fit the budget
    sizer = opts.sizer()
    assert isinstance(sizer, GrowingPartSizer) and sizer.part_size(1) == 6 * MiB


@pytest.mark.parametrize("block, expected", [("16MiB", 16 * MiB), (8 * MiB, 8 * MiB),
                                             ("32 MiB", 32 * MiB), ("10MB", 10_000_000)])
def test_block_size_is_part_size(block, expected: int) -> None:
    opts = WriteOptions.from_kwargs(block_size=block)
    assert opts.part_size == expected
    assert opts.sizer().part_size(1) == expected


def test_block_size_none_keeps_default_and_part_size_wins() -> None:
    assert WriteOptions.from_kwargs(block_size=None).part_size == 6 * MiB
    assert WriteOptions.from_kwargs(block_size="8MiB", part_size="6MiB").part_size == 6 * MiB


def test_part_size_string() -> None:
    assert WriteOptions.from_kwargs(part_size="64MiB").part_size == 64 * MiB
    assert WriteOptions(part_size="1GiB").part_size == 1 * GiB


def test_create_parameters_go_to_extra() -> None:
    opts = WriteOptions.from_kwargs(ServerSideEncryption="AES256", CacheControl="no-cache",
                                    concurrency=4)
    assert dict(opts.extra) == {"ServerSideEncryption": "AES256", "CacheControl": "no-cache"}
    assert opts.concurrency == 4
    assert not hasattr(opts, "ServerSideEncryption")


def test_acl_alias() -> None:
    assert dict(WriteOptions.from_kwargs(acl="private").extra) == {"ACL": "private"}
    assert dict(WriteOptions.from_kwargs(acl=None).extra) == {}


def test_updated_keeps_extra_and_validates() -> None:
    base = WriteOptions.from_kwargs(ACL="private", part_size="8MiB")
    new = base.updated(concurrency=2, StorageClass="STANDARD_IA")
    assert dict(new.extra) == {"ACL": "private", "StorageClass": "STANDARD_IA"}
    assert new.part_size == 8 * MiB and new.concurrency == 2
    assert base.concurrency == 16  # the original is unchanged (frozen)
    with pytest.raises(ConfigurationError):
        base.updated(concurrency=0)


@pytest.mark.parametrize("typo, suggestion", [
    ("concurency", "concurrency"), ("partsize", "part_size"), ("chekcsum", "checksum"),
    ("ServerSideEncription", "ServerSideEncryption"), ("keep_part_on_error",
                                                       "keep_parts_on_error"),
])
def test_misspelled_option_suggests(typo: str, suggestion: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        WriteOptions.from_kwargs(**{typo: 1})
    message = str(info.value)
    assert repr(typo) in message
    assert f"did you mean {suggestion!r}?" in message


def test_unknown_option_lists_the_options() -> None:
    with pytest.raises(ConfigurationError) as info:
        WriteOptions.from_kwargs(zzqqxx=1)
    message = str(info.value)
    assert "'zzqqxx'" in message and "did you mean" not in message
    for name in ("part_size", "concurrency", "checksum", "keep_parts_on_error"):
        assert name in message


@pytest.mark.parametrize("value", [0, 65, -1, 1.5, "8", None])
def test_concurrency_out_of_range(value) -> None:
    with pytest.raises(ConfigurationError, match="concurrency"):
        WriteOptions(concurrency=value)


@pytest.mark.parametrize("value", [1, 64])
def test_concurrency_bounds_are_inclusive(value: int) -> None:
    assert WriteOptions(concurrency=value).concurrency == value


def test_bad_checksum() -> None:
    with pytest.raises(ConfigurationError, match="crc64"):
        WriteOptions.from_kwargs(checksum="crc64")
    assert WriteOptions.from_kwargs(checksum="SHA256").checksum is ChecksumMode.SHA256
    assert WriteOptions.from_kwargs(checksum=None).checksum is ChecksumMode.NONE


@pytest.mark.parametrize("bad", [{"part_size": 1}, {"part_size": "6 GiB"}, {"part_size": "big"},
                                 {"part_size_policy": "doubling"}, {"max_attempts": 0},
                                 {"size": 6 * TiB}, {"size": -1}, {"size": "lots"}])
def test_invalid_values(bad: dict) -> None:
    with pytest.raises(ConfigurationError):
        WriteOptions.from_kwargs(**bad)


@pytest.mark.parametrize("total", [0, 1, 100 * MiB, 200 * GiB, 5 * TiB])
def test_size_selects_a_fitted_fixed_sizer(total: int) -> None:
    opts = WriteOptions.from_kwargs(size=total, part_size="8MiB")
    sizer = opts.sizer()
    assert isinstance(sizer, FixedPartSizer)
    assert sizer.size >= 8 * MiB
    assert capacity(sizer) >= total


def test_size_string_and_equal_policy() -> None:
    assert WriteOptions.from_kwargs(size="1GiB").size == GiB
    sizer = WriteOptions.from_kwargs(part_size_policy="equal", part_size="32MiB").sizer()
    assert isinstance(sizer, FixedPartSizer) and sizer.size == 32 * MiB


def test_memory_bound() -> None:
    assert WriteOptions(part_size=8 * MiB, concurrency=3).memory_bound == 4 * 8 * MiB
    assert WriteOptions(concurrency=1).memory_bound == 2 * 6 * MiB
    # with a known size the fitted part size counts
    opts = WriteOptions(size=500 * GiB, part_size=5 * MiB, concurrency=2)
    assert opts.sizer().part_size(1) * 10_000 >= 500 * GiB
    assert opts.memory_bound == 2 * opts.sizer().part_size(1), "2 parts of 52 MiB fit 128 MiB"


def test_max_memory_bounds_what_concurrency_would_hold() -> None:
    opts = WriteOptions(part_size="8MiB", concurrency=12, max_memory="64MiB")
    assert opts.memory_limit == 64 * MiB and opts.memory_bound == 64 * MiB
    assert opts.concurrency_for(8 * MiB) == 8 and opts.concurrency_for(64 * MiB) == 1
    assert opts.concurrency_for(100 * MiB) == 1, "a part over the budget still goes, alone"
    assert WriteOptions(concurrency=4).concurrency_for(16 * MiB) == 4


def test_max_memory_defaults_to_128_mib_or_two_parts_of_a_larger_part_size() -> None:
    assert WriteOptions().memory_limit == 128 * MiB
    assert WriteOptions(part_size="1GiB").memory_limit == 2 * GiB
    # the default follows the part size a write asks for over the filesystem's options
    assert WriteOptions().updated(part_size="256MiB").memory_limit == 512 * MiB


def test_max_memory_below_one_part_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigurationError, match=r"max_memory=32 MiB holds less than one "
                       r"part \(part_size=64 MiB\): raise max_memory, or lower part_size"):
        WriteOptions(part_size="64MiB", max_memory="32MiB")


def test_custom_limits() -> None:
    limits = PartLimits(min_part=1, max_part=1000, max_parts=5, max_object=5000)
    opts = WriteOptions(part_size=10, limits=limits)
    assert opts.sizer().limits == limits
    assert opts.sizer().part_size(1) == 10
    with pytest.raises(ConfigurationError):
        WriteOptions(part_size=1001, limits=limits)


def test_retry_policy_and_frozen() -> None:
    opts = WriteOptions(max_attempts=3)
    assert opts.retry_policy() == RetryPolicy(3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.concurrency = 2  # type: ignore[misc]


def test_concurrency_must_not_be_a_bool():
    with pytest.raises(ConfigurationError, match="concurrency"):
        WriteOptions(concurrency=True)


def test_the_typed_keywords_cover_createmultipartupload() -> None:
    """S3RequestParameters is written out for the type checkers; it must name every request
    parameter botocore's model gives CreateMultipartUpload (a new botocore may add some)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("s3")
    members = set(model.operation_model("CreateMultipartUpload").input_shape.members)
    assert members - {"Bucket", "Key"} <= set(S3RequestParameters.__optional_keys__)
    assert not set(S3RequestParameters.__required_keys__)


def test_the_typed_keywords_are_the_writer_options() -> None:
    """WriteOptionsDict: every user-facing WriteOptions field, fsspec's block_size and the
    request parameters, each accepted by from_kwargs; CopyOptionsDict adds copy's own."""
    own = {f.name for f in dataclasses.fields(WriteOptions)} - {"limits", "extra"}
    keys = set(WriteOptionsDict.__optional_keys__)
    assert keys == own | {"block_size"} | set(S3RequestParameters.__optional_keys__)
    assert keys - own - {"block_size"} <= set(_create_parameters())  # none refused at run time
    assert set(OpenWriterOptions.__optional_keys__) == keys | {"append"}
    copy_own = {f.name for f in dataclasses.fields(CopyOptions)} - {"write"}
    assert set(CopyOptionsDict.__optional_keys__) == keys | copy_own
