"""The one table of whole-file compression: codecs told from name suffixes, and back."""

from __future__ import annotations

import gzip
import threading
import zlib

import numpy as np
import pandas as pd
import pytest

from mpu_toolkit import ConfigurationError
from mpu_toolkit.formats.compression import (CODECS, GZIP_LEVEL, MEMBER_BYTES, GzipMembers,
                                             codec_and_level, codec_for, gzip_member,
                                             split_codec, suffix)


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
def test_every_level_writes_a_gzip_member_any_reader_takes(level):
    data = sample_csv()
    packed = gzip_member(data, level)
    assert gzip.decompress(packed) == data
    assert zlib.decompress(packed, 16 + zlib.MAX_WBITS) == data


def test_each_level_is_at_least_as_small_as_zlib_at_that_level_and_the_default_beats_pandas():
    data = sample_csv()
    for level in range(1, 10):
        assert len(gzip_member(data, level)) <= len(gzip.compress(data, level, mtime=0)), level
    # the default is smaller than what pandas writes (Python's gzip at 9) and zlib's default
    assert len(gzip_member(data)) < len(gzip.compress(data, 9, mtime=0))


class Collected:
    """A file that keeps what is written to it, and on which thread."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.threads: set[str] = set()

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.threads.add(threading.current_thread().name)


def test_members_concatenate_into_the_text_and_reach_the_file_on_the_callers_thread():
    data = sample_csv() * 6  # several members' worth
    out = Collected()
    members = GzipMembers(out, GZIP_LEVEL)
    for start in range(0, len(data), 700_000):  # writes smaller than a member
        members.write(data[start:start + 700_000])
    members.close()
    assert len(data) > 2 * MEMBER_BYTES
    assert len(out.writes) == -(-len(data) // MEMBER_BYTES) >= 3
    assert all(gzip.decompress(member) for member in out.writes)  # each a whole member
    assert gzip.decompress(b"".join(out.writes)) == data
    assert out.threads == {threading.current_thread().name}
    # ~as small as one member of the same text
    assert len(b"".join(out.writes)) < 1.01 * len(gzip_member(data))


def test_nothing_written_is_still_a_valid_empty_gzip_file():
    out = Collected()
    GzipMembers(out).close()
    assert gzip.decompress(b"".join(out.writes)) == b""


def test_discard_drops_the_members_in_flight():
    out = Collected()
    members = GzipMembers(out)
    members.write(b"x" * MEMBER_BYTES)  # one member compressing, none written yet
    members.discard()
    assert out.writes == []
    with pytest.raises(RuntimeError):  # its thread is gone: nothing more is compressed
        members.write(b"y" * MEMBER_BYTES)
