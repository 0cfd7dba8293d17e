"""`mpu ls|stat|cat|rm` through the real console script, on the session's server (moto, or
Ceph RGW in CI).

As in test_cli_transfers.py: ``--endpoint-url`` on the command line, credentials only in the
environment (helpers.Mpu checks the secret is in no output), objects made and checked with an
independent boto3 client. ``cat`` is run for its bytes (not text), and its memory is measured
from a parent process of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from helpers import MPU

pytestmark = pytest.mark.skipif(MPU is None, reason="the `mpu` console script is not installed "
                                                    "(pip install -e .)")
MiB = 1024 * 1024
EVERY_BYTE = bytes(range(256))


def cat(mpu: Any, *args: str) -> subprocess.CompletedProcess[bytes]:
    """`mpu cat ...` with stdout as bytes."""
    return subprocess.run([mpu.executable, "cat", *args, "--endpoint-url", mpu.endpoint],
                          capture_output=True, timeout=120, env=mpu.env,
                          stdin=subprocess.DEVNULL)


def keys(boto: Any, bucket: str, prefix: str) -> list[str]:
    pages = boto.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_put_ls_stat_cat_rm_round_trip(mpu, boto, bucket, key, tmp_path):
    """The issue's "done when": put → ls shows it → stat gives its size → cat returns the
    same bytes (every byte value, several MiB, two parts) → rm removes it."""
    data = EVERY_BYTE * (6 * MiB // 256) + os.urandom(1000)
    path = tmp_path / "every byte.bin"
    path.write_bytes(data)
    url = f"mpu://{bucket}/{key}/every byte.bin"
    put = mpu("put", str(path), url, "--part-size", "5MiB", "--no-progress")
    assert put.returncode == 0, put.stderr

    listed = mpu("ls", f"mpu://{bucket}/{key}/")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.rstrip().endswith("6.0 MiB  every byte.bin")
    [entry] = mpu.json("ls", f"mpu://{bucket}/{key}/")
    assert (entry["key"], entry["size"], entry["type"]) == (f"{key}/every byte.bin", len(data),
                                                            "file")

    stat = mpu.json("stat", url)
    assert stat["size"] == len(data) and stat["parts"] == 2
    assert stat["etag"] == boto.head_object(Bucket=bucket, Key=f"{key}/every byte.bin")["ETag"]

    done = cat(mpu, url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == data

    removed = mpu("rm", url)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == f"deleted {url}\n"
    assert keys(boto, bucket, key) == []
    gone = mpu("ls", f"mpu://{bucket}/{key}/")
    assert gone.returncode == 1 and "does not exist" in gone.stderr


def test_rm_of_a_prefix_needs_recursive_and_dry_run_deletes_nothing(mpu, boto, bucket, key):
    for name in ("dir/a.bin", "dir/sub/b.bin", "dir-other.bin"):
        boto.put_object(Bucket=bucket, Key=f"{key}/{name}", Body=b"x" * 10)
    prefix = f"mpu://{bucket}/{key}/dir"

    refused = mpu("rm", prefix)
    assert refused.returncode == 2  # bad usage, as argparse's errors
    assert f"mpu rm {prefix} --recursive" in refused.stderr and "--dry-run" in refused.stderr
    assert len(keys(boto, bucket, key)) == 3

    preview = mpu.json("rm", prefix, "--recursive", "--dry-run")
    assert [(p["key"], p["outcome"]) for p in preview] == [
        (f"{key}/dir/a.bin", "would-delete"), (f"{key}/dir/sub/b.bin", "would-delete")]
    assert len(keys(boto, bucket, key)) == 3

    done = mpu("rm", "-r", prefix + "/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"deleted {prefix}/a.bin", f"deleted {prefix}/sub/b.bin"]
    assert "2 objects (20 B) deleted" in done.stderr
    assert keys(boto, bucket, key) == [f"{key}/dir-other.bin"]  # a neighbour, not under dir/


def test_rm_recursive_of_a_bucket_empties_it_and_keeps_it(mpu, boto, key):
    bucket = f"mpu-rm-{key[-8:]}".lower()
    boto.create_bucket(Bucket=bucket)
    try:
        boto.put_object(Bucket=bucket, Key="a", Body=b"1")
        boto.put_object(Bucket=bucket, Key="p/b", Body=b"2")
        assert mpu("rm", f"mpu://{bucket}").returncode == 2
        assert mpu("rm", f"mpu://{bucket}", "--recursive").returncode == 0
        assert keys(boto, bucket, "") == []
        boto.head_bucket(Bucket=bucket)  # still there
    finally:
        boto.delete_bucket(Bucket=bucket)


def test_missing_keys_and_buckets_fail_with_the_listing_that_shows_what_exists(mpu, bucket,
                                                                                key):
    for command in ("rm", "stat", "cat", "ls"):
        done = mpu(command, f"mpu://{bucket}/{key}/nope.bin")
        assert done.returncode == 1, (command, done.stderr)
        assert f"mpu://{bucket}/{key}/nope.bin does not exist" in done.stderr
        assert f"`mpu ls mpu://{bucket}/{key}/`" in done.stderr
        assert "Traceback" not in done.stderr
    for command in ("rm", "stat", "cat", "ls"):
        done = mpu(command, f"s3://mpu-no-such-bucket-{key[-8:]}/k")
        assert done.returncode == 1 and "NoSuchBucket" in done.stderr, done.stderr
        assert "`mpu ls` lists the buckets" in done.stderr


def test_ls_shows_prefixes_and_objects_in_human_long_recursive_and_json_forms(mpu, boto,
                                                                             bucket, key):
    boto.put_object(Bucket=bucket, Key=f"{key}/top.txt", Body=b"hello", ContentType="text/plain")
    boto.put_object(Bucket=bucket, Key=f"{key}/sub/inner.bin", Body=b"x" * 3000)
    url = f"s3://{bucket}/{key}"  # s3:// as well, no trailing slash

    lines = mpu("ls", url).stdout.splitlines()
    assert [line.split()[-1] for line in lines] == ["sub/", "top.txt"]
    assert lines[0].split()[0] == "PRE" and lines[1].split()[-3:] == ["5", "B", "top.txt"]

    long = mpu("ls", "-l", url).stdout.splitlines()
    etag = boto.head_object(Bucket=bucket, Key=f"{key}/top.txt")["ETag"]
    assert long[1].split()[2:] == ["5", "STANDARD", etag, "top.txt"]

    recursive = mpu("ls", "--recursive", url).stdout.splitlines()
    assert [line.split()[-1] for line in recursive] == ["sub/inner.bin", "top.txt"]
    assert "2.9 KiB" in recursive[0]

    listed = mpu.json("ls", url)
    assert [(e["key"], e["type"], e["size"]) for e in listed] == [
        (f"{key}/sub/", "directory", None), (f"{key}/top.txt", "file", 5)]
    assert listed[1]["url"] == f"s3://{bucket}/{key}/top.txt"
    assert listed[1]["last_modified"].endswith("+00:00") and listed[1]["etag"] == etag

    alone = mpu.json("ls", f"{url}/top.txt")  # an object lists as itself
    assert [e["key"] for e in alone] == [f"{key}/top.txt"]
    buckets = mpu.json("ls")
    assert {"bucket": bucket, "type": "bucket"}.items() <= next(
        b for b in buckets if b["bucket"] == bucket).items()


def test_ls_lists_past_one_page_of_a_thousand_keys(mpu, boto, bucket, key):
    names = [f"{key}/many/{i:05d}" for i in range(1003)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: boto.put_object(Bucket=bucket, Key=k, Body=b""), names))
    listed = mpu.json("ls", f"mpu://{bucket}/{key}/many/")
    assert [e["key"] for e in listed] == names
    assert len(mpu.json("ls", "-r", f"mpu://{bucket}/{key}/")) == 1003
    assert mpu.json("rm", "-r", f"mpu://{bucket}/{key}/many") and keys(boto, bucket, key) == []


def test_stat_shows_metadata_content_type_and_parts(mpu, boto, bucket, key):
    boto.put_object(Bucket=bucket, Key=f"{key}/o.csv", Body=b"a,b\n", ContentType="text/csv",
                    Metadata={"owner": "data-team"})
    record = mpu.json("stat", f"mpu://{bucket}/{key}/o.csv")
    assert (record["size"], record["content_type"], record["metadata"], record["parts"]) == (
        4, "text/csv", {"owner": "data-team"}, None)
    assert record["last_modified"].endswith("+00:00")
    text = mpu("stat", f"mpu://{bucket}/{key}/o.csv").stdout
    assert "size:" in text and "4 B (4 bytes)" in text and "owner=data-team" in text
    prefix = mpu.json("stat", f"mpu://{bucket}/{key}")
    assert prefix == {"url": f"mpu://{bucket}/{key}/", "bucket": bucket, "key": f"{key}/",
                      "type": "directory"}


def test_cat_range_and_a_prefix_refused(mpu, boto, bucket, key):
    boto.put_object(Bucket=bucket, Key=f"{key}/bytes", Body=EVERY_BYTE)
    url = f"mpu://{bucket}/{key}/bytes"
    assert cat(mpu, url, "--range", "10-19").stdout == EVERY_BYTE[10:20]
    assert cat(mpu, url, "--range", "250-").stdout == EVERY_BYTE[250:]
    assert cat(mpu, url, "--range", "250-9999").stdout == EVERY_BYTE[250:]
    for bad in ("300-", "x-1", "5"):
        done = cat(mpu, url, "--range", bad)
        assert done.returncode == 2 and not done.stdout, bad
    prefix = cat(mpu, f"mpu://{bucket}/{key}")
    assert prefix.returncode == 2 and b"is a prefix" in prefix.stderr


def test_cat_to_a_reader_that_leaves_exits_quietly_as_cat_does(mpu, boto, bucket, key):
    boto.put_object(Bucket=bucket, Key=f"{key}/big", Body=os.urandom(3 * MiB))
    reader = subprocess.Popen([mpu.executable, "cat", f"mpu://{bucket}/{key}/big",
                               "--endpoint-url", mpu.endpoint], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=mpu.env, stdin=subprocess.DEVNULL)
    assert reader.stdout is not None and reader.stderr is not None
    assert len(reader.stdout.read(10)) == 10  # `mpu cat … | head -c 10`
    reader.stdout.close()
    assert reader.wait(timeout=60) == 141  # 128 + SIGPIPE, as the shell reports for `cat`
    assert reader.stderr.read() == b""  # no traceback, no "Exception ignored"


_PEAK = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
assert done.returncode == 0
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def test_cat_streams_a_large_object_in_bounded_memory(mpu, boto, bucket, key):
    """The peak memory of `mpu cat` does not grow with the object: a 64 MiB object costs a
    few reads of ``CHUNK`` bytes more than a 1-byte one (measured: 22 MiB with 8 MiB reads), where
    holding the object would cost 64 MiB at least."""
    boto.put_object(Bucket=bucket, Key=f"{key}/small", Body=b"x")
    boto.put_object(Bucket=bucket, Key=f"{key}/large", Body=os.urandom(64 * MiB))

    def peak_kib(name: str) -> int:
        argv = [sys.executable, "-c", _PEAK, mpu.executable, "cat", f"mpu://{bucket}/{key}/{name}",
                "--endpoint-url", mpu.endpoint]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=mpu.env)
        assert done.returncode == 0, done.stderr
        return int(done.stdout)

    grown = (peak_kib("large") - peak_kib("small")) * 1024
    assert grown < 48 * MiB, f"mpu cat of 64 MiB took {grown / MiB:.0f} MiB more"


def test_ls_and_rm_of_a_local_path_are_refused():
    for argv in (["ls", "/tmp"], ["rm", "relative/path"], ["cat", "file.bin"]):
        assert MPU is not None
        done = subprocess.run([MPU, *argv], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "give an mpu:// or s3:// URL" in done.stderr
