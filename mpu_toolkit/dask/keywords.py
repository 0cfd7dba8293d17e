"""``to_single_object``'s and ``to_dataset``'s keywords as typed dictionaries: any format's
encoder keywords (Parquet, CSV, JSON Lines) and the writer options of every upload."""

from __future__ import annotations

import pyarrow as pa

from ..formats.keywords import (CsvOnlyKeywords, JsonlOnlyKeywords, ParquetKeywords,
                                TextKeywords)
from ..options import AttributeKeywords, WriterKeywords

__all__ = ["DatasetOptions", "SingleObjectOptions"]


class DatasetOptions(WriterKeywords, AttributeKeywords, ParquetKeywords, TextKeywords,
                     CsvOnlyKeywords, JsonlOnlyKeywords, total=False):
    """``to_dataset``'s ``**options``: ``schema`` and ``preserve_index`` (Parquet), the
    format's encoder keywords, and writer options for every file."""

    schema: pa.Schema | None
    preserve_index: bool | None


class SingleObjectOptions(DatasetOptions, total=False):
    """``to_single_object``'s ``**options``: those of ``to_dataset``, and Parquet's
    ``row_group_size`` (rows, or Arrow bytes such as ``"128MiB"``, per partition)."""

    row_group_size: int | str
