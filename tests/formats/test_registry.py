"""The format registry against the real server: every registered format, by each of its
extensions, round-trips through its streaming writer, ``to_single_object`` and ``to_dataset``,
and its objects get the record's Content-Type. Parametrized over the registry, so a new
format is tested here as soon as it is registered (it only needs a reader in ``READ``)."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from helpers import incomplete_uploads

from mpu_toolkit import ConfigurationError, to_dataset, to_single_object
from mpu_toolkit.formats.compression import CODECS, split_codec
from mpu_toolkit.formats.record import Format
from mpu_toolkit.formats.registry import FORMATS, format_named, format_of, names_a_file

#: how a test reads each format back into a frame (the library writes, it does not read)
READ: dict[str, Callable[[bytes], pd.DataFrame]] = {
    "parquet": lambda data: pd.read_parquet(io.BytesIO(data)),
    "csv": lambda data: pd.read_csv(io.BytesIO(data), index_col=0),
    "jsonl": lambda data: pd.read_json(io.BytesIO(data), lines=True),
}


def names(format: Format) -> list[str]:
    """Every file name ending the format answers to: each extension, and for compressible
    formats each with every codec's suffix."""
    codecs = [""] + ([s for suffixes in CODECS.values() for s in suffixes]
                     if format.compressible else [])
    return [ext + codec for ext in format.extensions for codec in codecs]


ENDINGS = [pytest.param(f, ending, id=ending) for f in FORMATS.values() for ending in names(f)]
CODEC_CASES = [pytest.param(f, codec, id=f"{f.name}-{codec}") for f in FORMATS.values()
               for codec in ([None, *CODECS] if f.compressible else [None])]


def frame(rows: int = 1_200) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({"id": np.arange(rows, dtype="int64"),
                         "city": rng.choice(["Oslo", "Lima", "Pune"], rows),
                         "value": rng.normal(size=rows).round(6)})


def read_back(format: Format, data: bytes, name: str) -> pd.DataFrame:
    if format.name not in READ:
        pytest.fail(f"format {format.name!r} is registered: give this test a reader in READ")
    codec = split_codec(name.lower())[1]
    if codec == "gzip":
        data = gzip.decompress(data)
    elif codec == "zstd":
        data = pa.input_stream(pa.py_buffer(data), compression="zstd").read()
    return READ[format.name](data)


def assert_same(back: pd.DataFrame, df: pd.DataFrame) -> None:
    """Equal values, whatever index or string dtype the writer and reader gave them."""
    back = back.reset_index(drop=True).astype(df.dtypes.to_dict())
    pd.testing.assert_frame_equal(back, df)


def body(boto: Any, bucket: str, key: str) -> bytes:
    return boto.get_object(Bucket=bucket, Key=key)["Body"].read()


def content_type(boto: Any, bucket: str, key: str) -> str:
    return boto.head_object(Bucket=bucket, Key=key)["ContentType"]


def streamed(format: Format, df: pd.DataFrame, url: str, storage_options: Any,
             **options: Any) -> Any:
    """The format's streaming writer (write_parquet ...), given two chunks."""
    return format.write(iter([df[:500], df[500:]]), url, storage_options=storage_options,
                        **options)


def from_partitions(format: Format, df: pd.DataFrame, url: str, storage_options: Any,
                    **options: Any) -> Any:
    """to_single_object from three partitions, the format told by the URL alone."""
    dd = pytest.importorskip("dask.dataframe")
    return to_single_object(dd.from_pandas(df, npartitions=3), url,
                            storage_options=storage_options, **options)


def as_dataset(format: Format, df: pd.DataFrame, url: str, storage_options: Any,
               **options: Any) -> Any:
    """to_dataset of three partitions under the prefix ``url``, by the format's name."""
    dd = pytest.importorskip("dask.dataframe")
    return to_dataset(dd.from_pandas(df, npartitions=3), url, format=format.name,
                      storage_options=storage_options, **options)


def test_the_records_do_not_overlap() -> None:
    """One format per name and per extension; extensions as ``format_of`` compares them."""
    extensions = [ext for f in FORMATS.values() for ext in f.extensions]
    assert len(extensions) == len(set(extensions))
    assert all(ext.startswith(".") and ext == ext.lower() for ext in extensions)
    assert all(name == f.name and format_named(name) is f for name, f in FORMATS.items())
    assert all(f.options and "/" in f.content_type for f in FORMATS.values())


@pytest.mark.parametrize("write", [streamed, from_partitions])
@pytest.mark.parametrize("format, ending", ENDINGS)
def test_every_extension_round_trips_with_the_records_content_type(
        boto, bucket, key, storage_options, format, ending, write):
    name = f"{key}{ending}"
    assert format_of(f"mpu://{bucket}/{name}") is format
    df = frame()
    result = write(format, df, f"mpu://{bucket}/{name}", storage_options)
    assert result.rows == len(df)
    assert_same(read_back(format, body(boto, bucket, name), name), df)
    assert content_type(boto, bucket, name) == format.content_type


@pytest.mark.parametrize("format, codec", CODEC_CASES)
def test_to_dataset_names_its_files_by_the_record(boto, bucket, key, storage_options, format,
                                                  codec):
    df = frame()
    result = as_dataset(format, df, f"mpu://{bucket}/{key}/", storage_options,
                        compression=codec or "auto")
    ending = format.extensions[0] + (CODECS[codec][0] if codec else "")
    assert [k.rsplit("/", 1)[-1] for k in result.keys] == [f"part.{i}{ending}" for i in range(3)]
    assert all(format_of(k) is format for k in result.keys)
    parts = [read_back(format, body(boto, bucket, k), k) for k in result.keys]
    assert_same(pd.concat(parts), df)
    assert {content_type(boto, bucket, k) for k in result.keys} == {format.content_type}


@pytest.mark.parametrize("write", [streamed, from_partitions, as_dataset])
@pytest.mark.parametrize("format", FORMATS.values(), ids=FORMATS)
def test_a_misspelt_option_of_the_record_is_suggested_before_any_upload(
        boto, bucket, key, storage_options, format, write):
    option = max(sorted(format.options), key=len)  # a long one: no other name is closer
    url = f"mpu://{bucket}/{key}/" + ("" if write is as_dataset else f"x{format.extensions[0]}")
    with pytest.raises(ConfigurationError, match=f"did you mean {option!r}"):
        write(format, frame(10), url, storage_options, **{option[:-1]: None})
    assert incomplete_uploads(boto, bucket, key) == []


@pytest.mark.parametrize("format", FORMATS.values(), ids=FORMATS)
def test_a_given_content_type_wins_over_the_record(boto, bucket, key, storage_options, format):
    name = f"{key}{format.extensions[0]}"
    format.write(frame(10), f"mpu://{bucket}/{name}", storage_options=storage_options,
                 content_type="application/x-mine")
    assert content_type(boto, bucket, name) == "application/x-mine"


@pytest.mark.parametrize("name", ["data.orc", "data", "data.parquet.gz", "data.gz"])
def test_an_unknown_extension_is_refused_naming_every_known_one(name):
    with pytest.raises(ConfigurationError, match="cannot tell the format") as refused:
        format_of(f"mpu://bucket/{name}")
    message = str(refused.value)
    unnamed = [ext for f in FORMATS.values() for ext in f.extensions if ext not in message]
    assert unnamed == [] and "format=" in message
    assert all(suffixes[0] in message for suffixes in CODECS.values())


def test_an_unknown_format_is_refused_naming_every_known_one():
    with pytest.raises(ConfigurationError, match="format='orc'") as refused:
        format_named("orc")
    assert all(repr(name) in str(refused.value) for name in FORMATS)


def test_dask_writers_refuse_an_unknown_format_before_any_upload(boto, bucket, key,
                                                                 storage_options):
    dd = pytest.importorskip("dask.dataframe")
    ddf = dd.from_pandas(frame(10), npartitions=2)
    with pytest.raises(ConfigurationError, match="cannot tell the format"):
        to_single_object(ddf, f"mpu://{bucket}/{key}.orc", storage_options=storage_options)
    with pytest.raises(ConfigurationError, match="format='orc'"):
        to_dataset(ddf, f"mpu://{bucket}/{key}/", format="orc", storage_options=storage_options)
    assert incomplete_uploads(boto, bucket, key) == []


@pytest.mark.parametrize("name, is_file", [("sales.parquet", True), ("sales.csv.zst", True),
                                           ("sales.json", True), ("sales.gz", True),
                                           ("sales", False), ("sales.2024", False)])
def test_a_dataset_prefix_that_names_a_file_is_told_apart(name, is_file):
    assert names_a_file(f"bucket/{name}") is is_file
