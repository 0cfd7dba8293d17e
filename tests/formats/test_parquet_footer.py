"""The footer merge alone: Parquet pieces written apart, joined, read as one file by pyarrow."""

from __future__ import annotations

import decimal
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpu_toolkit.formats.parquet_footer import (MAGIC, FooterError, ParquetPiece, merged_footer,
                                                split_piece)


def rich_frame(rows: int, start: int = 0) -> pd.DataFrame:
    """Nulls, dictionary strings, zoned timestamps, categoricals, decimals, nested lists."""
    ids = np.arange(start, start + rows)
    return pd.DataFrame({
        "id": ids,
        "city": pd.array(np.array(["Oslo", "Lima", None, "Pune"], dtype=object)[ids % 4],
                         dtype=object),
        "value": np.where(ids % 3 == 0, np.nan, ids * 0.5),
        "ts": pd.to_datetime(ids, unit="s").tz_localize("UTC").tz_convert("Asia/Tokyo"),
        "kind": pd.Categorical(np.array(["a", "b", "c"])[ids % 3], categories=["a", "b", "c"]),
        "price": [decimal.Decimal(int(i)).scaleb(-2) if i % 5 else None for i in ids],
        "tags": [[int(i), int(i) + 1] if i % 2 else None for i in ids],
    }, index=pd.Index(ids * 10, name="row"))


_INFERRED = pa.Schema.from_pandas(rich_frame(4), preserve_index=True)
SCHEMA = _INFERRED.set(_INFERRED.get_field_index("price"), pa.field("price", pa.decimal128(12, 2)))


def piece_file(df: pd.DataFrame, row_group: int, **options: object) -> bytes:
    sink = io.BytesIO()
    writer = pq.ParquetWriter(sink, SCHEMA, **options)
    if len(df):
        writer.write_table(pa.Table.from_pandas(df, schema=SCHEMA, preserve_index=True),
                           row_group_size=row_group)
    writer.close()
    return sink.getvalue()


def joined(files: list[bytes]) -> bytes:
    out, pieces = bytearray(MAGIC), []
    for data in files:
        start, piece = split_piece(data)
        out += data[4:start]
        pieces.append(piece)
    return bytes(out + merged_footer(pieces))


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(0, 700), min_size=1, max_size=6),
       row_group=st.integers(20, 400), page_index=st.booleans())
def test_joined_pieces_read_as_the_whole_frame(sizes, row_group, page_index):
    starts = np.cumsum([0, *sizes])
    frames = [rich_frame(n, int(s)) for n, s in zip(sizes, starts)]
    whole = joined([piece_file(f, row_group, write_page_index=page_index) for f in frames])
    reference = io.BytesIO()  # the same rows written as one file, read back
    pq.write_table(pa.concat_tables([SCHEMA.empty_table()] + [
        pa.Table.from_pandas(f, schema=SCHEMA, preserve_index=True) for f in frames if len(f)]),
        reference)
    assert pq.read_table(io.BytesIO(whole)).equals(pq.read_table(reference))
    meta = pq.read_metadata(io.BytesIO(whole))
    assert meta.num_rows == sum(sizes)
    assert meta.num_row_groups == sum(-(-n // row_group) for n in sizes)
    file = pq.ParquetFile(io.BytesIO(whole))
    for group in range(file.num_row_groups):  # every column chunk where its footer says
        assert file.read_row_group(group).num_rows == meta.row_group(group).num_rows


def test_one_piece_footer_is_byte_identical():
    data = piece_file(rich_frame(1_000), 300, write_page_index=True)
    start, piece = split_piece(data)
    assert merged_footer([piece]) == data[start:]


def test_statistics_dictionaries_and_pandas_metadata_survive():
    frames = [rich_frame(500), rich_frame(500, 500)]
    whole = joined([piece_file(f, 250) for f in frames])  # same row groups as in one piece
    meta = pq.read_metadata(io.BytesIO(whole))
    reference = pq.read_metadata(io.BytesIO(piece_file(pd.concat(frames), 250)))
    assert meta.num_row_groups == reference.num_row_groups == 4
    assert meta.schema.equals(reference.schema)
    assert meta.metadata == reference.metadata  # pandas + ARROW:schema key-values
    for group in range(meta.num_row_groups):
        for column in range(meta.num_columns):
            ours = meta.row_group(group).column(column)
            theirs = reference.row_group(group).column(column)
            assert ours.statistics == theirs.statistics
            assert ours.has_dictionary_page == theirs.has_dictionary_page
            assert ours.compression == theirs.compression
    pd.testing.assert_frame_equal(pq.read_table(io.BytesIO(whole)).to_pandas(),
                                  pd.concat(frames))


def test_empty_pieces_give_a_valid_empty_file():
    whole = joined([piece_file(rich_frame(0), 10), piece_file(rich_frame(0), 10)])
    table = pq.read_table(io.BytesIO(whole))
    assert table.num_rows == 0 and table.schema.names == SCHEMA.names


def test_another_schema_is_refused():
    other = io.BytesIO()
    pq.write_table(pa.table({"x": [1]}), other)
    _, first = split_piece(piece_file(rich_frame(3), 10))
    _, second = split_piece(other.getvalue())
    with pytest.raises(FooterError, match="piece 1 has another schema"):
        merged_footer([first, second])


@pytest.mark.parametrize("data, problem", [
    (b"PAR1" + b"\0" * 10, "no PAR1 magic"),
    (b"PAR1xxxx" + (100).to_bytes(4, "little") + b"PAR1", "does not fit"),
])
def test_not_parquet_is_refused(data, problem):
    with pytest.raises(FooterError, match=problem):
        split_piece(data)


def test_a_truncated_footer_is_refused():
    with pytest.raises(FooterError, match="ends inside"):
        merged_footer([ParquetPiece(0, b"\x15\x02\x19")])
