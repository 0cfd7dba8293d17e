"""One Parquet footer for many Parquet pieces laid end to end: offsets moved, nothing else.

A Parquet file is ``PAR1``, column-chunk bytes, a Thrift-encoded ``FileMetaData`` (the
footer), its length and ``PAR1``. Pieces written separately with the same schema become one
file by joining their bodies (the bytes between the magic and the footer) and writing one
footer that lists every piece's row groups, with each byte offset moved by where the piece's
body now starts.

Why a rewrite of ten integer fields instead of a Thrift library: pyarrow can merge footers
(``FileMetaData.append_row_groups``) but has no setter for offsets; fastparquet's Thrift
objects re-encode only the fields they know (field ids up to 13), so they drop the
``SizeStatistics`` (field 16) that pyarrow writes; thriftpy2 would need the IDL and skips
unknown fields too. Here every field is copied byte for byte except the offsets, the row
counts and the row-group ordinals, so statistics, encodings, the pandas and Arrow schema
metadata, page indexes and fields newer than this code all survive.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable, Sequence

from ..errors import MPUError

__all__ = ["ParquetPiece", "split_piece", "merged_footer", "FooterError"]

MAGIC = b"PAR1"
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
_FIXED = {_BYTE: 1, _DOUBLE: 8}

# field ids (parquet.thrift): the offsets to move, per struct
_FILE_NUM_ROWS, _FILE_ROW_GROUPS, _FILE_ENCRYPTION = 3, 4, 8
_GROUP_COLUMNS, _GROUP_FILE_OFFSET, _GROUP_ORDINAL = 1, 5, 7
_CHUNK_FILE_OFFSET, _CHUNK_META, _CHUNK_OFFSET_INDEX, _CHUNK_COLUMN_INDEX = 2, 3, 4, 6
_CHUNK_ENCRYPTED = (8, 9)
_META_OFFSETS = (9, 10, 11, 14)  # data, index, dictionary page; bloom filter


class FooterError(MPUError, ValueError):
    """Bytes that are not a Parquet file this module can merge (say why)."""


@dataclass(frozen=True)
class ParquetPiece:
    """A Parquet file cut for joining: ``body`` length, the raw Thrift ``footer``, and how
    many row groups it lists (as its writer counted them)."""

    body: int
    footer: bytes
    row_groups: int = 0


def split_piece(data: bytes | memoryview) -> tuple[int, ParquetPiece]:
    """Where the footer of the Parquet file ``data`` starts, and the piece it describes."""
    if len(data) < 12 or bytes(data[:4]) != MAGIC or bytes(data[-4:]) != MAGIC:
        raise FooterError("not a Parquet file: no PAR1 magic at both ends")
    (length,) = struct.unpack("<i", data[-8:-4])
    start = len(data) - 8 - length
    if length <= 0 or start < 4:
        raise FooterError(f"Parquet footer length {length} does not fit a {len(data)}-byte file")
    return start, ParquetPiece(start - 4, bytes(data[start:-8]))


def merged_footer(pieces: Sequence[ParquetPiece]) -> bytes:
    """The footer, length and magic that close ``PAR1`` + every piece's body, in order.

    The pieces must share one schema (checked byte for byte). Returns the file's tail.
    """
    if not pieces:
        raise FooterError("no Parquet pieces to merge")
    try:
        return _merged(pieces)
    except IndexError:
        raise FooterError("a Parquet footer ends inside a Thrift value: truncated?") from None


def _merged(pieces: Sequence[ParquetPiece]) -> bytes:
    first = _fields(pieces[0].footer, 0)
    schema = _field_bytes(pieces[0].footer, first, 2)
    groups = bytearray()
    rows = shift = count = 0
    for number, piece in enumerate(pieces):
        buf = piece.footer
        fields = _fields(buf, 0)
        if _field_bytes(buf, fields, 2) != schema:
            raise FooterError(f"piece {number} has another schema than piece 0")
        for field in fields:
            if field.id == _FILE_ENCRYPTION:
                raise FooterError("encrypted Parquet footers cannot be merged")
            if field.id == _FILE_NUM_ROWS:
                rows += _varint_signed(buf, field.value)[0]
            elif field.id == _FILE_ROW_GROUPS:
                size, kind, pos = _collection_header(buf, field.value)
                for _ in range(size):
                    group, pos = _copy_struct(buf, pos, _group_edits(shift, count))
                    groups += group
                    count += 1
        shift += piece.body
    out = bytearray()
    buf = pieces[0].footer
    for field in first:
        if field.id == _FILE_NUM_ROWS:
            out += buf[field.header:field.value] + _zigzag_varint(rows)
        elif field.id == _FILE_ROW_GROUPS:
            out += buf[field.header:field.value] + _list_header(count, _STRUCT) + groups
        else:
            out += buf[field.header:field.end]
    out.append(_STOP)
    return bytes(out) + struct.pack("<i", len(out)) + MAGIC


# -- moving offsets ----------------------------------------------------------------------

#: (footer, value position, Thrift type) -> (new value bytes, end of the old value)
_Edit = Callable[[bytes, int, int], "tuple[bytes, int]"]


def _group_edits(shift: int, ordinal: int) -> dict[int, _Edit]:
    def moved(buf: bytes, pos: int, kind: int, keep_zero: bool = False) -> tuple[bytes, int]:
        if kind != _I64:
            raise FooterError(f"a Parquet offset of Thrift type {kind}, expected i64")
        value, end = _varint_signed(buf, pos)
        return _zigzag_varint(value if keep_zero and value == 0 else value + shift), end

    def encrypted(buf: bytes, pos: int, kind: int) -> tuple[bytes, int]:
        raise FooterError("encrypted Parquet column chunks cannot be merged")

    meta: dict[int, _Edit] = {n: moved for n in _META_OFFSETS}
    chunk: dict[int, _Edit] = {
        # 0 is "not set" for this deprecated offset (pyarrow writes 0): it stays 0
        _CHUNK_FILE_OFFSET: lambda b, p, k: moved(b, p, k, keep_zero=True),
        _CHUNK_META: lambda b, p, k: _copy_struct(b, p, meta),
        _CHUNK_OFFSET_INDEX: moved, _CHUNK_COLUMN_INDEX: moved,
        **{n: encrypted for n in _CHUNK_ENCRYPTED}}
    return {
        _GROUP_COLUMNS: lambda b, p, k: _copy_list(b, p, chunk),
        _GROUP_FILE_OFFSET: moved,
        _GROUP_ORDINAL: lambda b, p, k: (_zigzag_varint(ordinal), _varint(b, p)[1]),
    }


def _copy_struct(buf: bytes, pos: int, edits: dict[int, _Edit]) -> tuple[bytes, int]:
    """The struct at ``pos``, with ``edits`` applied to their fields, and where it ends."""
    out = bytearray()
    last = 0
    while (field := _field_header(buf, pos, last)) is not None:
        last, kind, value = field
        edit = edits.get(last)
        if edit is None:
            end = _value_end(buf, value, kind)
            out += buf[pos:end]
        else:
            new, end = edit(buf, value, kind)
            out += buf[pos:value]
            out += new
        pos = end
    out.append(_STOP)
    return bytes(out), pos + 1


def _copy_list(buf: bytes, pos: int, edits: dict[int, _Edit]) -> tuple[bytes, int]:
    """A list of structs, each with ``edits`` applied."""
    size, kind, pos = _collection_header(buf, pos)
    if size and kind != _STRUCT:
        raise FooterError(f"a Thrift list of type {kind} where structs were expected")
    out = bytearray(_list_header(size, _STRUCT))
    for _ in range(size):
        item, pos = _copy_struct(buf, pos, edits)
        out += item
    return bytes(out), pos


# -- Thrift compact protocol: just enough to walk and re-emit ------------------------------

@dataclass(frozen=True)
class _Field:
    id: int
    type: int
    header: int  #: where the field header starts
    value: int   #: where the value starts
    end: int     #: where the value ends


def _fields(buf: bytes, pos: int) -> list[_Field]:
    """The fields of the top-level struct at ``pos``."""
    fields: list[_Field] = []
    last = 0
    while (field := _field_header(buf, pos, last)) is not None:
        last, kind, value = field
        end = _value_end(buf, value, kind)
        fields.append(_Field(last, kind, pos, value, end))
        pos = end
    return fields


def _field_header(buf: bytes, pos: int, last: int) -> tuple[int, int, int] | None:
    """(field id, type, where the value starts) of the field header at ``pos`` (``last``:
    the previous field's id); None at the struct's stop byte."""
    if pos >= len(buf):
        raise FooterError("Parquet footer ends inside a Thrift struct")
    byte = buf[pos]
    if byte == _STOP:
        return None
    kind, delta = byte & 0x0F, byte >> 4
    if delta:
        return last + delta, kind, pos + 1
    number, pos = _varint_signed(buf, pos + 1)
    return number, kind, pos


def _value_end(buf: bytes, pos: int, kind: int) -> int:
    return pos if kind in (_TRUE, _FALSE) else _skip(buf, pos, kind)


def _field_bytes(buf: bytes, fields: list[_Field], field_id: int) -> bytes:
    return b"".join(buf[f.header:f.end] for f in fields if f.id == field_id)


def _skip(buf: bytes, pos: int, kind: int) -> int:
    if kind in _FIXED:
        return pos + _FIXED[kind]
    if kind in (_I16, _I32, _I64):
        return _varint(buf, pos)[1]
    if kind == _BINARY:
        length, pos = _varint(buf, pos)
        return pos + length
    if kind == _STRUCT:
        return _skip_struct(buf, pos)
    if kind in (_LIST, _SET):
        size, element, pos = _collection_header(buf, pos)
        for _ in range(size):
            pos = pos + 1 if element in (_TRUE, _FALSE) else _skip(buf, pos, element)
        return pos
    if kind == _MAP:
        size, pos = _varint(buf, pos)
        if not size:
            return pos
        key, value = buf[pos] >> 4, buf[pos] & 0x0F
        pos += 1
        for _ in range(size):
            pos = _skip(buf, _skip(buf, pos, key), value)
        return pos
    raise FooterError(f"unknown Thrift type {kind} in the Parquet footer")


def _skip_struct(buf: bytes, pos: int) -> int:
    last = 0
    while (field := _field_header(buf, pos, last)) is not None:
        last, kind, value = field
        pos = _value_end(buf, value, kind)
    return pos + 1


def _collection_header(buf: bytes, pos: int) -> tuple[int, int, int]:
    byte = buf[pos]
    size, kind, pos = byte >> 4, byte & 0x0F, pos + 1
    if size == 15:
        size, pos = _varint(buf, pos)
    return size, kind, pos


def _list_header(size: int, kind: int) -> bytes:
    return bytes([size << 4 | kind]) if size < 15 else bytes([0xF0 | kind]) + _uvarint(size)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise FooterError("Parquet footer ends inside a number")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _varint_signed(buf: bytes, pos: int) -> tuple[int, int]:
    value, pos = _varint(buf, pos)
    return (value >> 1) ^ -(value & 1), pos


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _zigzag_varint(value: int) -> bytes:
    return _uvarint((value << 1) ^ (value >> 63))
