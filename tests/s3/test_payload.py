"""PartBody: zero-copy chunks for aiohttp, a seekable file for botocore."""

from __future__ import annotations

import asyncio
import os

from botocore.utils import determine_content_length

from mpu_toolkit._s3.payload import CHUNK, PartBody


def collect(body: PartBody) -> list[memoryview]:
    async def gather() -> list[memoryview]:
        return [chunk async for chunk in body]

    return asyncio.run(gather())


def test_chunks_are_views_of_the_part_not_copies():
    data = bytearray(os.urandom(3 * CHUNK + 17))
    chunks = collect(PartBody(data))
    assert [len(c) for c in chunks] == [CHUNK, CHUNK, CHUNK, 17]
    assert b"".join(chunks) == data
    data[0] ^= 0xFF  # a view sees the change; a copy would not
    assert chunks[0][0] == data[0]


def test_each_iteration_starts_over_so_a_retry_resends_everything():
    body = PartBody(b"abc" * 1000)
    assert b"".join(collect(body)) == b"".join(collect(body)) == b"abc" * 1000


def test_file_side_reads_seeks_and_reports_length():
    body = PartBody(b"0123456789")
    assert len(body) == 10 == determine_content_length(body)
    assert body.read(4) == b"0123" and body.tell() == 4
    assert body.read() == b"456789" and body.read() == b""
    assert body.seek(-3, 2) == 7 and body.read(10) == b"789"
    assert body.seek(2) == 2 and body.read(1) == b"2"


def test_empty_body():
    body = PartBody(b"")
    assert len(body) == 0 and collect(body) == [] and body.read() == b""
