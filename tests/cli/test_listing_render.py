"""What `mpu ls` and `mpu stat` print (cli/listing.py), from s3fs-shaped listing entries: the
order, the names relative to the prefix listed, the parts read from an ETag, times in UTC."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

from mpu_toolkit.cli.listing import entries, print_entries, print_stat, when

BERLIN = timezone(timedelta(hours=1))
LISTED = [
    {"name": "b/p/z.bin", "type": "file", "size": 3 * 1024 * 1024, "StorageClass": "STANDARD",
     "ETag": '"abc-3"', "LastModified": datetime(2026, 1, 2, 13, 0, tzinfo=BERLIN)},
    {"name": "b/p/sub", "type": "directory", "size": 0, "StorageClass": "DIRECTORY"},
    {"name": "b/p/a.txt", "type": "file", "size": 5, "StorageClass": "STANDARD",
     "ETag": '"d41d8"', "LastModified": datetime(2026, 1, 2, 12, 0, tzinfo=timezone.utc)},
]


def test_prefixes_come_first_then_objects_by_key_and_parts_come_from_the_etag():
    listed = entries(LISTED, scheme="s3")
    assert [(e.key, e.type) for e in listed] == [("p/sub/", "directory"), ("p/a.txt", "file"),
                                                 ("p/z.bin", "file")]
    assert [e.parts for e in listed] == [None, None, 3]
    assert listed[2].url == "s3://b/p/z.bin"
    record = listed[2].record()
    assert record["last_modified"] == "2026-01-02T12:00:00+00:00"  # 13:00 in UTC+1
    assert "parts" not in listed[0].record()


def test_buckets_are_entries_of_their_own():
    [bucket] = entries([{"name": "b", "type": "directory", "StorageClass": "BUCKET",
                         "CreationDate": datetime(2026, 1, 1, tzinfo=timezone.utc)}])
    assert (bucket.bucket, bucket.key, bucket.type, bucket.url) == ("b", "", "bucket", "mpu://b")


def test_lines_name_entries_relative_to_the_prefix_with_human_or_exact_sizes():
    out = io.StringIO()
    print_entries(entries(LISTED), base="p/", long=False, out=out)
    assert out.getvalue().splitlines() == [
        "                       PRE  sub/",  # sizes right-aligned, names in one column
        "2026-01-02 12:00:00    5 B  a.txt",
        "2026-01-02 12:00:00  3 MiB  z.bin",
    ]
    out = io.StringIO()
    print_entries(entries(LISTED), base="p/", long=True, out=out)
    assert out.getvalue().splitlines()[2].split() == ["2026-01-02", "12:00:00", "3145728",
                                                      "STANDARD", '"abc-3"', "z.bin"]


def test_stat_lines_show_the_size_both_ways_and_the_metadata():
    out = io.StringIO()
    print_stat({**entries(LISTED)[2].record(), "metadata": {"owner": "me", "run": "7"}}, out)
    lines = dict(line.split(":", 1) for line in out.getvalue().splitlines())
    assert lines["size"].strip() == "3 MiB (3,145,728 bytes)"
    assert lines["last_modified"].strip() == "2026-01-02 12:00:00 UTC"
    assert lines["metadata"].strip() == "owner=me run=7"
    assert when(None) is None
