"""to_single_object's and to_dataset's typed keywords: every format's encoder keywords and
the writer options, besides the functions' own parameters."""

from __future__ import annotations

import inspect

from mpu_toolkit.dask import keywords
from mpu_toolkit.dask.dataset import to_dataset
from mpu_toolkit.dask.single_object import to_single_object
from mpu_toolkit.formats import text
from mpu_toolkit.formats.parquet import PARQUET_OPTIONS
from mpu_toolkit.options import AttributeKeywords, WriterKeywords


def test_every_format_keyword_and_writer_option_is_typed() -> None:
    expected = (PARQUET_OPTIONS | text._CSV_OPTIONS | text._JSONL_OPTIONS
                | set(WriterKeywords.__optional_keys__) | set(AttributeKeywords.__optional_keys__)
                | {"schema", "preserve_index"})
    assert expected <= set(keywords.DatasetOptions.__optional_keys__)
    assert set(keywords.SingleObjectOptions.__optional_keys__) == (
        set(keywords.DatasetOptions.__optional_keys__) | {"row_group_size"})


def test_no_typed_keyword_is_also_a_named_parameter() -> None:
    for function, options in ((to_dataset, keywords.DatasetOptions),
                              (to_single_object, keywords.SingleObjectOptions)):
        named = set(inspect.signature(function).parameters) - {"options"}
        assert not named & set(options.__optional_keys__), function.__name__
