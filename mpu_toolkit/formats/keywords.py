"""The frame writers' keywords as typed dictionaries, for IDEs, mypy and notebooks.

``write_parquet(..., **options: Unpack[ParquetWriteOptions])``: pyarrow's ``ParquetWriter``
keywords, pandas' ``to_csv`` / ``to_json`` keywords, and the writer options (part size,
metadata, S3 request parameters ...): the names :mod:`.parquet` and :mod:`.text` accept at run
time, which tests/formats/test_keywords.py keeps in sync with these.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Literal

from typing_extensions import TypedDict

from ..options import AttributeKeywords, PartSizeKeywords, WriterKeywords

__all__ = ["ParquetKeywords", "TextKeywords", "CsvKeywords", "JsonlKeywords",
           "CsvOnlyKeywords", "JsonlOnlyKeywords", "FrameWriterKeywords",
           "ParquetWriteOptions", "CsvWriteOptions", "JsonlWriteOptions"]


class ParquetKeywords(TypedDict, total=False):
    """``pyarrow.parquet.ParquetWriter``'s keywords (``compression`` is named)."""

    bloom_filter_options: bool | Mapping[str, Any] | None
    column_encoding: str | Mapping[str, str] | None
    compression_level: int | Mapping[str, int] | None
    data_page_version: str
    dictionary_pagesize_limit: int | None
    encryption_properties: Any
    flavor: str | None
    max_rows_per_page: int | None
    sorting_columns: Sequence[Any] | None
    store_decimal_as_integer: bool
    store_schema: bool
    use_byte_stream_split: bool | Sequence[str]
    use_compliant_nested_type: bool
    use_content_defined_chunking: bool | Mapping[str, Any]
    use_deprecated_int96_timestamps: bool | None
    use_dictionary: bool | Sequence[str]
    version: str
    write_batch_size: int | None
    write_page_checksum: bool
    write_page_index: bool
    write_statistics: bool | Sequence[str]
    write_time_adjusted_to_utc: bool
    writer_engine_version: str | None


class TextKeywords(TypedDict, total=False):
    """The keywords ``to_csv`` and ``to_json`` share."""

    date_format: str | None
    index: bool | None


class CsvOnlyKeywords(TypedDict, total=False):
    sep: str
    na_rep: str
    float_format: str | Callable[[float], str] | None
    columns: Sequence[Hashable] | None
    header: bool | Sequence[str]
    index_label: Hashable | Sequence[Hashable] | None
    quoting: int | None
    quotechar: str
    lineterminator: str | None
    chunksize: int | None
    doublequote: bool
    escapechar: str | None
    decimal: str


class JsonlOnlyKeywords(TypedDict, total=False):
    date_unit: Literal["s", "ms", "us", "ns"]
    default_handler: Callable[[Any], Any] | None
    double_precision: int
    force_ascii: bool


class CsvKeywords(TextKeywords, CsvOnlyKeywords, total=False):
    """``DataFrame.to_csv``'s keywords (``compression`` and ``encoding`` are named)."""


class JsonlKeywords(TextKeywords, JsonlOnlyKeywords, total=False):
    """``DataFrame.to_json(orient="records", lines=True)``'s other keywords."""


class FrameWriterKeywords(WriterKeywords, AttributeKeywords, PartSizeKeywords, total=False):
    """The writer options of a frame write (``progress`` is a named parameter)."""


class ParquetWriteOptions(FrameWriterKeywords, ParquetKeywords, total=False):
    """``write_parquet``'s ``**options``."""


class CsvWriteOptions(FrameWriterKeywords, CsvKeywords, total=False):
    """``write_csv``'s ``**options``."""


class JsonlWriteOptions(FrameWriterKeywords, JsonlKeywords, total=False):
    """``write_jsonl``'s ``**options``."""
