"""`mpu uploads|parts|du|abort|lifecycle` through the real console script, on the session's server.

Every command runs as a subprocess of the installed `mpu` script with ``--endpoint-url`` on the
command line and the credentials only in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (the way the
AWS tools read them); stdin is never a terminal. Incomplete uploads are made, and the server's
state is checked, with an independent boto3 client. Every call also checks that the secret is
in none of the command's output.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError
from helpers import MPU

from mpu_toolkit.testing.quirks import QuirkProxy

pytestmark = pytest.mark.skipif(MPU is None, reason="the `mpu` console script is not installed "
                                                    "(pip install -e .)")


class Uploads:
    """Incomplete uploads made with boto3; whatever a test leaves is aborted afterwards."""

    def __init__(self, boto: Any, bucket: str) -> None:
        self.boto, self.bucket = boto, bucket
        self.made: list[tuple[str, str, str]] = []
        self.etags: dict[str, list[str]] = {}

    def make(self, key: str, sizes: tuple[int, ...] = (1000, 1000, 1000),
             bucket: str | None = None) -> str:
        bucket = bucket or self.bucket
        upload_id = self.boto.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        self.made.append((bucket, key, upload_id))
        self.etags[upload_id] = [
            self.boto.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n,
                                  Body=os.urandom(size))["ETag"]
            for n, size in enumerate(sizes, 1)]
        return upload_id

    def live(self, prefix: str, bucket: str | None = None) -> set[tuple[str, str]]:
        """(key, upload_id) of every incomplete upload under ``prefix``, every page."""
        found, markers = set(), {}
        while True:
            page = self.boto.list_multipart_uploads(Bucket=bucket or self.bucket,
                                                    Prefix=prefix, **markers)
            found |= {(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])}
            if not page.get("IsTruncated"):
                return found
            markers = {"KeyMarker": page["NextKeyMarker"],
                       "UploadIdMarker": page["NextUploadIdMarker"]}

    def initiated(self, prefix: str) -> dict[str, datetime]:
        page = self.boto.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        return {u["UploadId"]: u["Initiated"] for u in page.get("Uploads", [])}

    def cleanup(self) -> None:
        for bucket, key, upload_id in self.made:
            try:
                self.boto.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            except ClientError:
                pass  # aborted by the test (RGW may answer NoSuchKey rather than NoSuchUpload)


@pytest.fixture
def uploads(boto: Any, bucket: str) -> Iterator[Uploads]:
    made = Uploads(boto, bucket)
    yield made
    made.cleanup()


def rows_of(table: str, upload_id: str) -> list[str]:
    """The table's lines of one upload (the default table shows the start of its id)."""
    return [line for line in table.splitlines() if upload_id[:11] in line]


# --- mpu uploads -----------------------------------------------------------------------------

def test_uploads_json_rows_equal_what_was_uploaded(mpu, uploads, bucket, key):
    made = {uploads.make(f"{key}/a.bin", (1000, 1000, 1000)): (f"{key}/a.bin", 3, 3000),
            uploads.make(f"{key}/a.bin", (7,)): (f"{key}/a.bin", 1, 7),
            uploads.make(f"{key}/sub/b.bin", (1024, 1024)): (f"{key}/sub/b.bin", 2, 2048)}
    uploads.make(f"{key}-sibling/c.bin")  # under another prefix: not listed
    before = datetime.now(timezone.utc)
    rows = mpu.json("uploads", f"mpu://{bucket}/{key}/")
    after = datetime.now(timezone.utc)
    assert {r["upload_id"]: (r["key"], r["parts"], r["bytes"]) for r in rows} == made
    assert len(rows) == 3 and {r["bucket"] for r in rows} == {bucket}
    server_initiated = uploads.initiated(f"{key}/")
    for row in rows:
        initiated = datetime.fromisoformat(row["initiated"])  # ISO 8601 with a UTC offset
        assert initiated.utcoffset() is not None
        assert initiated == server_initiated[row["upload_id"]]
        assert isinstance(row["age"], float)  # seconds
        assert ((before - initiated).total_seconds() - 1 <= row["age"]
                <= (after - initiated).total_seconds() + 1)
        assert row["storage_class"] == "STANDARD" and row["abort_date"] is None
    assert [r["initiated"] for r in rows] == sorted(r["initiated"] for r in rows)  # oldest first


def test_uploads_recent_upload_is_seconds_old(mpu, uploads, bucket, key):
    """On every server, moto included (its own fixed 2010 date is replaced by the local
    server's real one): an upload made a moment ago is seconds old in `mpu uploads`."""
    uploads.make(f"{key}/x")
    time.sleep(1)
    [row] = mpu.json("uploads", f"mpu://{bucket}/{key}/")
    assert 0.5 <= row["age"] < 300
    assert abs((datetime.now(timezone.utc)
                - datetime.fromisoformat(row["initiated"])).total_seconds()) < 300
    table = mpu("uploads", f"mpu://{bucket}/{key}/").stdout.splitlines()
    assert re.search(r"\s(\d{1,2}min )?\d{1,2}s\s|\s[1-4]min\s", table[1]), table  # not "5869d"
    assert mpu.json("uploads", f"mpu://{bucket}/{key}/", "--older-than", "7d") == []


def test_uploads_table_has_human_sizes_and_a_summary(mpu, uploads, bucket, key):
    three = uploads.make(f"{key}/three", (1000, 1000, 1000))  # 3000 B
    two = uploads.make(f"{key}/two", (1024, 1024))  # 2048 B
    tiny = uploads.make(f"{key}/tiny", (5,))
    done = mpu("uploads", f"mpu://{bucket}/{key}/")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["bucket", "key", "age", "parts", "bytes", "upload_id"]
    assert max(len(line) for line in lines) <= 100  # fits a terminal
    for upload_id, key_, size in [(three, f"{key}/three", "2.9 KiB"),
                                  (two, f"{key}/two", "2 KiB"), (tiny, f"{key}/tiny", "5 B")]:
        [row] = rows_of(done.stdout, upload_id)
        assert re.search(rf"\s{re.escape(size)}\s", row), row
        assert upload_id not in row and row.rstrip().endswith("…")  # the start of the id
    assert "3 incomplete uploads, 6 parts, 4.9 KiB" in lines[-1]
    assert "3000" not in done.stdout  # no raw byte counts for people
    wide = mpu("uploads", f"mpu://{bucket}/{key}/", "--wide").stdout
    [row] = [line for line in wide.splitlines() if three in line]  # the whole id
    assert f" {key}/three " in row and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row)


def test_uploads_no_sizes_skips_parts_and_bytes(mpu, uploads, bucket, key):
    upload_id = uploads.make(f"{key}/x", (1000, 1000, 1000))
    [row] = mpu.json("uploads", f"mpu://{bucket}/{key}/", "--no-sizes")
    assert row["upload_id"] == upload_id and row["key"] == f"{key}/x"
    assert row["parts"] is None and row["bytes"] is None
    done = mpu("uploads", f"mpu://{bucket}/{key}/", "--no-sizes")
    assert done.returncode == 0, done.stderr
    [line] = rows_of(done.stdout, upload_id)
    assert "KiB" not in line and re.search(r"\s-\s+-\s", line), line
    assert "incomplete upload" not in done.stdout  # no byte summary without sizes


def test_uploads_empty_prefix_says_so(mpu, bucket, key):
    done = mpu("uploads", f"mpu://{bucket}/{key}/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no incomplete uploads"
    assert mpu.json("uploads", f"mpu://{bucket}/{key}/") == []


def test_uploads_and_du_on_an_exact_key_store_say_what_they_cannot_see(mpu, uploads, boto,
                                                                        bucket, key, server):
    """MinIO (emulated): listed by the keys of the objects, with the notice on stderr (so that
    --json stays JSON) instead of a silent "no incomplete uploads"."""
    boto.put_object(Bucket=bucket, Key=f"{key}/a", Body=b"object")
    seen = uploads.make(f"{key}/a", (10,))
    uploads.make(f"{key}/no-object", (10,))
    so = server.storage_options
    with QuirkProxy(server.endpoint_url, ["exact_key_listing"],
                    credentials=(so["key"], so["secret"])) as proxy:
        listed = mpu("uploads", f"mpu://{bucket}/{key}/", "--provider", "minio", "--json",
                     endpoint=proxy.endpoint_url)
        du = mpu("du", f"mpu://{bucket}/{key}/", "--provider", "minio",
                 endpoint=proxy.endpoint_url)
        abort = mpu("abort", f"mpu://{bucket}/{key}/", "--provider", "minio", "--dry-run",
                    "--force", endpoint=proxy.endpoint_url)
    assert [row["upload_id"] for row in json.loads(listed.stdout)] == [seen]
    assert "1 would-abort" in abort.stdout
    for done in (listed, du, abort):
        assert done.returncode == 0, done.stderr
        assert "only by their exact key" in done.stderr and "not seen" in done.stderr
        assert "stale_uploads_expiry" in done.stderr


# --- mpu parts -------------------------------------------------------------------------------

def test_parts_json_lists_every_part(mpu, uploads, bucket, key):
    upload_id = uploads.make(f"{key}/p", (1000, 2000, 3))
    other = uploads.make(f"{key}/p", (9,))  # same key, another upload: not mixed in
    parts = mpu.json("parts", f"mpu://{bucket}/{key}/p", upload_id)
    assert [(p["number"], p["size"]) for p in parts] == [(1, 1000), (2, 2000), (3, 3)]
    assert [p["etag"] for p in parts] == uploads.etags[upload_id]
    for p in parts:
        assert datetime.fromisoformat(p["last_modified"]).utcoffset() is not None
    assert [p["size"] for p in mpu.json("parts", f"mpu://{bucket}/{key}/p", other)] == [9]


def test_parts_of_an_unknown_upload_fails_with_exit_1(mpu, uploads, bucket, key):
    uploads.make(f"{key}/p", (10,))
    done = mpu("parts", f"mpu://{bucket}/{key}/p", "no-such-upload-id")
    assert done.returncode == 1, (done.stdout, done.stderr)
    # AWS and moto answer NoSuchUpload, RGW NoSuchKey: either way the hint says what it means
    assert "completed, aborted or expired" in done.stderr and "Traceback" not in done.stderr


def test_parts_needs_no_id_when_the_key_has_one_upload(mpu, uploads, bucket, key):
    upload_id = uploads.make(f"{key}/one", (10, 20))
    [first, second] = mpu.json("parts", f"mpu://{bucket}/{key}/one")
    assert (first["number"], first["size"], second["size"]) == (1, 10, 20)
    assert mpu.json("parts", f"mpu://{bucket}/{key}/one", upload_id[:12])[0]["size"] == 10
    other = uploads.make(f"{key}/one", (5,))
    done = mpu("parts", f"mpu://{bucket}/{key}/one")
    assert done.returncode == 2 and upload_id in done.stderr and other in done.stderr


@pytest.fixture
def own_bucket(boto: Any) -> Iterator[str]:
    """A bucket of this test's own (a lifecycle rule, or objects at the bucket's top level,
    must not touch or see other tests' data); emptied and deleted afterwards."""
    name = f"mpu-test-own-{uuid.uuid4().hex[:10]}"
    boto.create_bucket(Bucket=name)
    yield name
    try:
        for u in boto.list_multipart_uploads(Bucket=name).get("Uploads", []):
            boto.abort_multipart_upload(Bucket=name, Key=u["Key"], UploadId=u["UploadId"])
        for o in boto.list_objects_v2(Bucket=name).get("Contents", []):
            boto.delete_object(Bucket=name, Key=o["Key"])
        boto.delete_bucket_lifecycle(Bucket=name)
    finally:
        boto.delete_bucket(Bucket=name)


# --- mpu du ----------------------------------------------------------------------------------

def test_du_by_prefix(mpu, uploads, bucket, key):
    uploads.make(f"{key}-a/1", (1000, 1000))
    uploads.make(f"{key}-a/deeper/2", (500,))
    uploads.make(f"{key}-b/3", (4000,))
    rows = mpu.json("du", f"mpu://{bucket}/{key}-", "--by", "prefix")
    got = [(r["bucket"], r["prefix"], r["uploads"], r["parts"], r["bytes"]) for r in rows]
    assert got == [(bucket, f"{key}-b/", 1, 1, 4000),  # largest first
                   (bucket, f"{key}-a/", 2, 3, 2500)]
    assert all(datetime.fromisoformat(r["oldest"]).utcoffset() is not None for r in rows)
    assert "share" not in rows[0]  # only with --objects


def test_du_price_adds_the_monthly_cost_of_each_group(mpu, uploads, bucket, key):
    uploads.make(f"{key}-a/1", (3 << 20, 1 << 20))  # 4 MiB
    uploads.make(f"{key}-b/2", (1 << 20,))          # 1 MiB
    rows = mpu.json("du", f"mpu://{bucket}/{key}-", "--by", "prefix", "--price", "0.25")
    got = {r["prefix"]: (r["bytes"], r["monthly_cost"]) for r in rows}
    assert got == {f"{key}-a/": (4 << 20, pytest.approx(4 / 1024 * 0.25)),
                   f"{key}-b/": (1 << 20, pytest.approx(1 / 1024 * 0.25))}
    assert list(rows[0]).index("monthly_cost") == list(rows[0]).index("bytes") + 1
    [row] = mpu.json("du", f"mpu://{bucket}/{key}-", "--price", "0.25")
    assert row["monthly_cost"] == pytest.approx(5 / 1024 * 0.25)
    done = mpu("du", f"mpu://{bucket}/{key}-", "--by", "prefix", "--price=0.25")
    assert done.returncode == 0, done.stderr
    assert "monthly_cost" in done.stdout.splitlines()[0]
    [line] = [x for x in done.stdout.splitlines() if f"{key}-a/" in x]
    assert "4 MiB" in line and "0.00098" in line, line  # 4 MiB at 0.25 per GiB-month
    without = mpu.json("du", f"mpu://{bucket}/{key}-")
    assert "monthly_cost" not in without[0]


def test_du_objects_gives_the_share_of_space(mpu, uploads, boto, bucket, key):
    uploads.make(f"{key}-a/1", (1000, 2000))  # 3000 B incomplete, 9000 B of objects
    uploads.make(f"{key}-b/2", (500,))  # 500 B incomplete, no objects
    boto.put_object(Bucket=bucket, Key=f"{key}-a/done-1", Body=b"x" * 4000)
    boto.put_object(Bucket=bucket, Key=f"{key}-a/done-2", Body=b"y" * 5000)
    rows = mpu.json("du", f"mpu://{bucket}/{key}-", "--by", "prefix", "--objects")
    got = {r["prefix"]: (r["bytes"], r["object_bytes"], r["share"]) for r in rows}
    assert got == {f"{key}-a/": (3000, 9000, pytest.approx(0.25)),
                   f"{key}-b/": (500, 0, pytest.approx(1.0))}
    done = mpu("du", f"mpu://{bucket}/{key}-", "--by", "prefix", "--objects")
    assert done.returncode == 0, done.stderr
    [line] = [x for x in done.stdout.splitlines() if f"{key}-a/" in x]
    assert "25.0%" in line and "8.8 KiB" in line and "2.9 KiB" in line, line


def test_du_objects_does_not_count_an_object_named_like_the_prefix(mpu, uploads, boto,
                                                                   own_bucket):
    """Group "logs/" holds what is under logs/ — not the object "logs" next to it.
    (Fails: usage() sizes each group with s3fs du("bucket/logs"), which strips the slash and,
    with nothing under logs/, answers the size of the object "logs".)"""
    uploads.make("logs/run-1", (300,), bucket=own_bucket)
    boto.put_object(Bucket=own_bucket, Key="logs", Body=b"x" * 55)
    boto.put_object(Bucket=own_bucket, Key="logs-archive/old", Body=b"x" * 1000)
    [row] = mpu.json("du", f"mpu://{own_bucket}", "--by", "prefix", "--objects")
    assert (row["prefix"], row["bytes"]) == ("logs/", 300)
    assert (row["object_bytes"], row["share"]) == (0, pytest.approx(1.0)), row


def test_du_objects_counts_each_object_in_one_prefix_only(mpu, uploads, boto, own_bucket):
    """The top-level group ("": keys without a slash) holds the top-level objects; objects
    under data/ belong to data/ and are not counted again there.
    (Fails: the "" group is sized with du() of the whole bucket.)"""
    uploads.make("top-level-upload", (200,), bucket=own_bucket)
    uploads.make("data/upload", (400,), bucket=own_bucket)
    boto.put_object(Bucket=own_bucket, Key="top.txt", Body=b"x" * 100)
    boto.put_object(Bucket=own_bucket, Key="data/obj", Body=b"x" * 1000)
    rows = mpu.json("du", f"mpu://{own_bucket}", "--by", "prefix", "--objects")
    got = {r["prefix"]: (r["bytes"], r["object_bytes"]) for r in rows}
    assert got["data/"] == (400, 1000)
    assert sum(r["object_bytes"] for r in rows) <= 1100, got  # no object counted twice
    assert got[""] == (200, 100), got


def test_du_by_storage_class_gives_each_bucket_and_class(mpu, uploads, bucket, own_bucket, key):
    """The numbers of the storage-class picture (widgets.charts.class_chart), for --json."""
    uploads.make(f"{key}/a", (1000, 1000))
    uploads.make(f"{key}/b", (300,))
    uploads.make(f"{key}/c", (70,), bucket=own_bucket)
    rows = mpu.json("du", f"mpu://{bucket}/{key}/", f"mpu://{own_bucket}", "--by",
                    "storage-class", "--price", "2")
    got = [(r["bucket"], r["storage_class"], r["uploads"], r["parts"], r["bytes"]) for r in rows]
    assert got == [(bucket, "STANDARD", 2, 3, 2300), (own_bucket, "STANDARD", 1, 1, 70)]
    assert [r["monthly_cost"] for r in rows] == [pytest.approx(2300 / 2**30 * 2),
                                                 pytest.approx(70 / 2**30 * 2)]
    done = mpu("du", f"mpu://{bucket}/{key}/", "--by", "storage-class")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["bucket", "storage_class"]
    [line] = [x for x in done.stdout.splitlines() if bucket in x]
    assert "STANDARD" in line and "2.2 KiB" in line, line


def test_du_by_started_gives_the_numbers_of_the_start_picture(mpu, uploads, bucket, key):
    """The numbers of widgets.charts.start_chart, for --json: bytes by the day (week, month)
    the uploads started, per bucket."""
    uploads.make(f"{key}/a", (1000,))
    uploads.make(f"{key}/b", (300, 20))
    rows = mpu.json("du", f"mpu://{bucket}/{key}/", "--by", "started")
    assert [(r["bucket"], r["uploads"], r["parts"], r["bytes"]) for r in rows] == [
        (bucket, 2, 3, 1320)]  # all started today
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", rows[0]["started"]), rows[0]["started"]


def test_du_by_age_says_what_a_lifecycle_rule_should_have_aborted(mpu, uploads, boto,
                                                                   own_bucket):
    """abort_days and overdue_bytes mark the bands beyond each bucket's cut-off (the line of
    widgets.charts.age_chart); a bucket without a rule has neither."""
    uploads.make("tmp/old", (500,), bucket=own_bucket)
    uploads.make("keep/old", (200,), bucket=own_bucket)
    boto.put_bucket_lifecycle_configuration(Bucket=own_bucket, LifecycleConfiguration={
        "Rules": [{"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                   "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})
    [row] = mpu.json("du", f"mpu://{own_bucket}", "--by", "age")
    assert (row["bytes"], row["abort_days"]) == (700, 1)
    assert row["overdue_bytes"] == 0  # tmp/old is seconds old: not yet past its 1 day
    assert row["age_band"] == "< 1 hour"
    boto.delete_bucket_lifecycle(Bucket=own_bucket)
    [row] = mpu.json("du", f"mpu://{own_bucket}", "--by", "age")
    assert (row["abort_days"], row["overdue_bytes"]) == (None, 0)
    assert "overdue_bytes" not in mpu.json("du", f"mpu://{own_bucket}")[0]  # age only


# --- mpu abort -------------------------------------------------------------------------------

def test_abort_dry_run_aborts_nothing(mpu, uploads, bucket, key):
    made = {(f"{key}/a", uploads.make(f"{key}/a")), (f"{key}/b", uploads.make(f"{key}/b"))}
    rows = mpu.json("abort", f"mpu://{bucket}/{key}/", "--dry-run", "--force")
    assert {(r["key"], r["upload_id"]) for r in rows} == made
    assert {r["outcome"] for r in rows} == {"would-abort"}
    assert {r["bytes"] for r in rows} == {3000}
    assert uploads.live(f"{key}/") == made
    done = mpu("abort", f"mpu://{bucket}/{key}/", "--dry-run", "--force")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "2 would-abort"
    assert uploads.live(f"{key}/") == made


def test_abort_without_yes_and_no_terminal_is_refused(mpu, uploads, bucket, key):
    made = {(f"{key}/a", uploads.make(f"{key}/a")), (f"{key}/b", uploads.make(f"{key}/b"))}
    done = mpu("abort", f"mpu://{bucket}/{key}/", "--force")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "--yes" in done.stderr and "--dry-run" in done.stderr
    assert "2 uploads" in done.stderr and done.stdout == ""
    assert uploads.live(f"{key}/") == made


def test_abort_force_yes_aborts_under_the_prefix_only(mpu, uploads, bucket, key):
    made = {(f"{key}/a/1", uploads.make(f"{key}/a/1")),
            (f"{key}/a/2", uploads.make(f"{key}/a/2", (10,)))}
    sibling = {(f"{key}/b/1", uploads.make(f"{key}/b/1"))}
    rows = mpu.json("abort", f"mpu://{bucket}/{key}/a/", "--force", "-y")
    assert {(r["key"], r["upload_id"]): r["outcome"] for r in rows} == {
        m: "aborted" for m in made}
    assert sorted(r["bytes"] for r in rows) == [10, 3000]
    assert uploads.live(f"{key}/") == sibling
    # again: nothing left there
    done = mpu("abort", f"mpu://{bucket}/{key}/a/", "--force", "-y")
    assert done.returncode == 0 and "nothing to abort" in done.stdout


def test_abort_upload_id_aborts_only_that_one(mpu, uploads, bucket, key):
    target = uploads.make(f"{key}/same")
    same_key = uploads.make(f"{key}/same")
    other_key = uploads.make(f"{key}/other")
    rows = mpu.json("abort", f"mpu://{bucket}/{key}/", "--upload-id", target, "--force", "-y")
    assert [(r["upload_id"], r["outcome"]) for r in rows] == [(target, "aborted")]
    assert uploads.live(f"{key}/") == {(f"{key}/same", same_key), (f"{key}/other", other_key)}


def test_abort_unknown_upload_id_aborts_nothing_and_says_so(mpu, uploads, bucket, key):
    made = {(f"{key}/a", uploads.make(f"{key}/a"))}
    done = mpu("abort", f"mpu://{bucket}/{key}/", "--upload-id", "not-an-upload", "--force",
               "-y")
    assert "not found" in done.stderr and "not-an-upload" in done.stderr, done.stderr
    assert "nothing to abort" in done.stdout
    assert uploads.live(f"{key}/") == made


def test_abort_skips_young_uploads_without_force(mpu, uploads, bucket, key):
    made = {(f"{key}/live", uploads.make(f"{key}/live"))}
    rows = mpu.json("abort", f"mpu://{bucket}/{key}/", "-y")
    assert [r["outcome"] for r in rows] == ["skipped"]
    assert "younger than 1h" in rows[0]["reason"] and "force" in rows[0]["reason"]
    assert uploads.live(f"{key}/") == made
    # the threshold is --min-age: once the upload is older than it, it goes
    [initiated] = uploads.initiated(f"{key}/").values()
    while (datetime.now(timezone.utc) - initiated).total_seconds() < 1.5:
        time.sleep(0.1)
    rows = mpu.json("abort", f"mpu://{bucket}/{key}/", "--min-age", "1s", "-y")
    assert [r["outcome"] for r in rows] == ["aborted"]
    assert uploads.live(f"{key}/") == set()


def test_abort_without_yes_asks_nothing_when_every_upload_is_young(mpu, uploads, bucket, key):
    """Young uploads are skipped, so there is nothing to confirm: no refusal, nothing aborted."""
    made = {(f"{key}/a", uploads.make(f"{key}/a"))}
    done = mpu("abort", f"mpu://{bucket}/{key}/")
    assert done.returncode == 0, done.stderr
    assert "skipped" in done.stdout.splitlines()[-1]
    assert uploads.live(f"{key}/") == made


# --- mpu lifecycle ---------------------------------------------------------------------------

OTHER_RULE = {"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
              "Expiration": {"Days": 30}}


def server_rules(boto: Any, bucket: str) -> dict[str, dict[str, Any]]:
    try:
        rules = boto.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchLifecycleConfiguration":
            return {}
        raise
    return {r["ID"]: r for r in rules}


@pytest.mark.slow
def test_lifecycle_set_show_remove_keeps_other_rules(mpu, boto, own_bucket):
    boto.put_bucket_lifecycle_configuration(Bucket=own_bucket,
                                            LifecycleConfiguration={"Rules": [OTHER_RULE]})
    other_before = server_rules(boto, own_bucket)["expire-logs"]

    rows = mpu.json("lifecycle", f"mpu://{own_bucket}/tmp/", "--set-days", "3")
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {"expire-logs", "mpu-abort-incomplete-uploads"}
    assert by_id["mpu-abort-incomplete-uploads"] == {
        "bucket": own_bucket, "id": "mpu-abort-incomplete-uploads", "status": "Enabled",
        "prefix": "tmp/", "abort_incomplete_days": 3, "expiration_days": None, "other": ""}
    assert by_id["expire-logs"]["expiration_days"] == 30
    on_server = server_rules(boto, own_bucket)
    assert on_server["mpu-abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 3}
    assert on_server["mpu-abort-incomplete-uploads"]["Filter"] == {"Prefix": "tmp/"}
    assert on_server["expire-logs"] == other_before

    shown = mpu("lifecycle", f"mpu://{own_bucket}")
    assert shown.returncode == 0, shown.stderr
    [ours] = [x for x in shown.stdout.splitlines() if "mpu-abort-incomplete-uploads" in x]
    assert re.search(r"\sEnabled\s+tmp/\s+3\s", ours), ours
    assert any("expire-logs" in x and "30" in x for x in shown.stdout.splitlines())

    rows = mpu.json("lifecycle", f"mpu://{own_bucket}", "--remove")
    assert [r["id"] for r in rows] == ["expire-logs"]
    assert server_rules(boto, own_bucket) == {"expire-logs": other_before}


def test_lifecycle_remove_of_the_only_rule_deletes_the_configuration(mpu, boto,
                                                                      own_bucket):
    assert mpu.json("lifecycle", f"mpu://{own_bucket}", "--set-days", "7")[0][
        "abort_incomplete_days"] == 7
    assert list(server_rules(boto, own_bucket)) == ["mpu-abort-incomplete-uploads"]
    assert mpu.json("lifecycle", f"mpu://{own_bucket}", "--remove") == []
    assert server_rules(boto, own_bucket) == {}


# --- bad usage -------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["uploads", "{url}", "--bogus"], "unrecognized arguments: --bogus"),
    (["uploads", "{url}", "--older-than", "soon"], "'soon' is not a duration"),
    (["abort", "{url}", "--older-than", "soon", "--force", "-y"], "'soon' is not a duration"),
    (["abort", "{url}", "--min-age", "soon", "-y"], "'soon' is not a duration"),
    (["du", "{url}", "--by", "owner"], "invalid choice: 'owner'"),
    (["du", "{url}", "--price", "-0.02"], "--price='-0.02' is negative"),
    (["du", "{url}", "--price", "nan"], "--price='nan' is not a finite number"),
    (["du", "{url}", "--price", "$0.02"], "--price='$0.02' is not a number"),
    (["lifecycle", "{url}", "--set-days", "0"], "at least 1"),
    (["lifecycle", "{url}", "--set-days", "3", "--remove"], "either --set-days or --remove"),
    (["abort"], "the following arguments are required: URL"),
], ids=["unknown-option", "uploads-older-than", "abort-older-than", "abort-min-age",
        "du-by", "du-price-negative", "du-price-nan", "du-price-text", "lifecycle-days", "lifecycle-set-and-remove", "abort-no-url"])
def test_bad_usage_exits_2_with_a_message_and_changes_nothing(mpu, uploads, bucket, key,
                                                              args, message):
    made = {(f"{key}/a", uploads.make(f"{key}/a", (10,)))}
    done = mpu(*[a.format(url=f"mpu://{bucket}/{key}/") for a in args])
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr and "Traceback" not in done.stderr, done.stderr
    if "is not a duration" in message:
        assert "1h" in done.stderr and "7d" in done.stderr  # says what a duration looks like
    if "--price" in message:  # one line that says what a price looks like
        assert done.stderr.startswith("mpu: error: --price=") and done.stdout == ""
        assert "per GiB-month" in done.stderr and len(done.stderr.splitlines()) == 1
    assert uploads.live(f"{key}/") == made


def test_unknown_bucket_is_a_failure_exit_1(mpu, key):
    done = mpu("uploads", f"mpu://no-such-bucket-{uuid.uuid4().hex[:12]}/")
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "NoSuchBucket" in done.stderr and "Traceback" not in done.stderr


# --- credentials -----------------------------------------------------------------------------

def test_credentials_come_from_the_environment(mpu, uploads, bucket, key, server):
    """A wrong AWS_SECRET_ACCESS_KEY is refused with exit 1 and not echoed; none at all
    cannot authenticate either."""
    if server.is_moto:
        pytest.skip("moto does not check request signatures")
    uploads.make(f"{key}/a", (10,))
    wrong = mpu("uploads", f"mpu://{bucket}/{key}/",
                env={"AWS_SECRET_ACCESS_KEY": "wrong-" + uuid.uuid4().hex})
    assert wrong.returncode == 1, (wrong.stdout, wrong.stderr)
    assert re.search(r"SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId", wrong.stderr)
    assert "Traceback" not in wrong.stderr
    none = mpu("uploads", f"mpu://{bucket}/{key}/", "--json",
               env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
    assert none.returncode == 1 and none.stdout == "", (none.stdout, none.stderr)
    assert "Traceback" not in none.stderr


@pytest.mark.slow
def test_secret_never_printed_even_with_debug_logging(mpu, uploads, bucket, key):
    """-vv logs botocore's requests (signed headers): the secret must still not appear.
    (Every other call in this file checks the same in its own output.)"""
    upload_id = uploads.make(f"{key}/a", (10,))
    url = f"mpu://{bucket}/{key}/"
    for args in (["uploads", url, "--json"], ["parts", f"mpu://{bucket}/{key}/a", upload_id],
                 ["abort", url, "--dry-run", "--force"], ["du", url, "--objects"],
                 ["abort", url, "--force", "-y"]):
        done = mpu(*args, verbose=True)
        assert done.returncode == 0, done.stderr
        assert "DEBUG" in done.stderr  # the logging really was on
    assert uploads.live(f"{key}/") == set()
