"""The frame writers' typed keywords name what the writers accept at run time: pyarrow's
ParquetWriter keywords, pandas' to_csv / to_json keywords, and the writer options."""

from __future__ import annotations

from mpu_toolkit.formats import keywords, text
from mpu_toolkit.formats.parquet import PARQUET_OPTIONS
from mpu_toolkit.options import AttributeKeywords, PartSizeKeywords, WriterKeywords

WRITER = (set(WriterKeywords.__optional_keys__) | set(AttributeKeywords.__optional_keys__)
          | set(PartSizeKeywords.__optional_keys__))


def test_parquet_keywords_cover_the_installed_parquet_writer() -> None:
    assert PARQUET_OPTIONS <= set(keywords.ParquetKeywords.__optional_keys__)
    assert set(keywords.ParquetWriteOptions.__optional_keys__) == (
        WRITER | set(keywords.ParquetKeywords.__optional_keys__))


def test_text_keywords_are_pandas_keywords() -> None:
    assert set(keywords.CsvKeywords.__optional_keys__) == text._CSV_OPTIONS
    assert set(keywords.JsonlKeywords.__optional_keys__) == text._JSONL_OPTIONS
    assert set(keywords.CsvWriteOptions.__optional_keys__) == WRITER | text._CSV_OPTIONS
    assert set(keywords.JsonlWriteOptions.__optional_keys__) == WRITER | text._JSONL_OPTIONS


def test_progress_is_a_named_parameter_not_a_keyword() -> None:
    """write_parquet / write_csv name ``progress``: a TypedDict key of the same name would be
    refused by mypy (and split_options refuses it in ``**options``)."""
    for options in (keywords.ParquetWriteOptions, keywords.CsvWriteOptions,
                    keywords.JsonlWriteOptions):
        assert "progress" not in options.__optional_keys__
