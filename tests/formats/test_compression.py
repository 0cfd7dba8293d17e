"""The one table of whole-file compression: codecs told from name suffixes, and back."""

from __future__ import annotations

import gzip
import zlib

import numpy as np
import pandas as pd
import pytest

from mpu_toolkit import ConfigurationError
from mpu_toolkit.formats.compression import (CODECS, GZIP_LEVEL, codec_and_level, codec_for,
                                             gzip_compressor, split_codec, suffix)


@pytest.mark.parametrize("name, stem, codec", [
    ("a.csv.gz", "a.csv", "gzip"), ("a.csv.gzip", "a.csv", "gzip"),
    ("a.jsonl.zst", "a.jsonl", "zstd"), ("a.jsonl.zstd", "a.jsonl", "zstd"),
    ("a.csv", "a.csv", None), ("a.gz.csv", "a.gz.csv", None)])
def test_a_name_is_split_from_its_compression_suffix(name, stem, codec):
    assert split_codec(name) == (stem, codec)


def test_infer_reads_the_last_name_of_the_url_and_explicit_codecs_win():
    assert codec_for("infer", "mpu://b/dir.gz/x.CSV.GZ") == "gzip"
    assert codec_for("infer", "mpu://b/x.gz/data.csv") is None
    assert codec_for("zstd", "mpu://b/x.csv.gz") == "zstd"
    assert codec_for(None, "mpu://b/x.csv.gz") is None


def test_an_unknown_codec_is_refused_naming_the_known_ones():
    with pytest.raises(ConfigurationError, match="compression='brotli'.*'gzip', 'zstd'"):
        codec_for("brotli", "x.csv")  # type: ignore[arg-type]


def test_the_suffix_written_is_the_first_of_its_codec():
    assert [suffix(codec) for codec in (None, *CODECS)] == ["", ".gz", ".zst"]
    assert all(split_codec("x" + suffix(codec))[1] == codec for codec in CODECS)


def test_pandas_dict_form_gives_the_codec_and_gzip_level():
    assert codec_and_level("infer", "x.csv.gz") == ("gzip", GZIP_LEVEL)
    assert codec_and_level({"method": "gzip", "compresslevel": 9}, "x.csv") == ("gzip", 9)
    assert codec_and_level({"compresslevel": 1}, "x.csv.gz") == ("gzip", 1)  # method: infer
    assert codec_and_level({"method": "zstd"}, "x.csv.gz") == ("zstd", GZIP_LEVEL)


@pytest.mark.parametrize("compression, message", [
    ({"method": "gzip", "compresslevel": 10}, "compresslevel=10: gzip's levels are 0"),
    ({"method": "gzip", "compresslevel": "9"}, "compresslevel='9'"),
    ({"method": "zstd", "compresslevel": 1}, "compresslevel is gzip's .* writes zstd"),
    ({"method": "zstd", "compresslevel": 3}, "compresslevel is gzip's .* writes zstd"),
    ({"method": "gzip", "mtime": 0}, r"\['mtime'\] not supported"),
    ({"method": "brotli"}, "compression='brotli'")])
def test_a_wrong_dict_is_refused_naming_what_it_takes(compression, message):
    with pytest.raises(ConfigurationError, match=message):
        codec_and_level(compression, "x.csv")


def sample_csv() -> bytes:
    rng = np.random.default_rng(5)
    n = 60_000
    return pd.DataFrame({"id": np.arange(n), "price": rng.normal(100, 20, n).round(2),
                         "country": rng.choice(["FR", "DE", "US", "JP"], n),
                         "x": rng.normal(size=n)}).to_csv(index=False).encode()


@pytest.mark.parametrize("level", range(10))
def test_every_level_writes_one_gzip_member_any_reader_takes(level):
    data = sample_csv()
    packer = gzip_compressor(level)
    packed = packer.compress(data) + packer.flush()
    assert gzip.decompress(packed) == data
    assert zlib.decompress(packed, 16 + zlib.MAX_WBITS) == data


def test_fast_levels_are_igzip_at_least_as_small_as_zlib_at_the_same_level():
    from isal import isal_zlib

    data = sample_csv()
    for level in (1, 2, 3):
        packer = gzip_compressor(level)
        assert type(packer) is type(isal_zlib.compressobj(level, zlib.DEFLATED, 31))
        ours = len(packer.compress(data) + packer.flush())
        assert ours <= len(gzip.compress(data, compresslevel=level, mtime=0)), level
    assert type(gzip_compressor(6)) is type(zlib.compressobj(6, zlib.DEFLATED, 31))
