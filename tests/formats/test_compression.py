"""The one table of whole-file compression: codecs told from name suffixes, and back."""

from __future__ import annotations

import pytest

from mpu_toolkit import ConfigurationError
from mpu_toolkit.formats.compression import CODECS, codec_for, split_codec, suffix


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
