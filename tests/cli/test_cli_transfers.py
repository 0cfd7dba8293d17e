"""`mpu cp|put|compose` through the real console script, on the session's server.

Same setup as test_cli_uploads.py (the ``mpu`` fixture, helpers.Mpu): ``--endpoint-url`` on the command
line, credentials only in the environment, and every call checks that the secret is in none
of the output. Objects are made and checked with an independent boto3 client.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import pytest
from helpers import MPU, incomplete_uploads, object_exists

pytestmark = pytest.mark.skipif(MPU is None, reason="the `mpu` console script is not installed "
                                                    "(pip install -e .)")
MiB = 1024 * 1024


def put(boto: Any, bucket: str, key: str, size: int, **kwargs: Any) -> bytes:
    data = os.urandom(size)
    boto.put_object(Bucket=bucket, Key=key, Body=data, **kwargs)
    return data


def body(boto: Any, bucket: str, key: str) -> bytes:
    return boto.get_object(Bucket=bucket, Key=key)["Body"].read()


def local_file(tmp_path: Any, name: str, size: int) -> tuple[str, bytes]:
    data = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(data)
    return str(path), data


# --- cp URL URL --------------------------------------------------------------------------------

def test_cp_between_urls_is_byte_exact_and_metadata_replaces_the_sources(mpu, boto, bucket,
                                                                         key):
    data = put(boto, bucket, f"{key}/src.bin", MiB + 17, Metadata={"old": "1"},
               ContentType="application/x-old")
    src, dst = f"s3://{bucket}/{key}/src.bin", f"mpu://{bucket}/{key}/dst.bin"
    done = mpu("cp", src, dst, "--metadata", "owner=data-team", "--metadata", "run=a=b",
               "--content-type", "application/x-new")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"copied {src} → {dst}: 1.0 MiB, 1 part")  # as written
    assert len(done.stdout.strip().splitlines()) == 1
    assert body(boto, bucket, f"{key}/dst.bin") == data
    head = boto.head_object(Bucket=bucket, Key=f"{key}/dst.bin")
    assert head["Metadata"] == {"owner": "data-team", "run": "a=b"}  # "old" is gone
    assert head["ContentType"] == "application/x-new"
    source = boto.head_object(Bucket=bucket, Key=f"{key}/src.bin")
    assert source["Metadata"] == {"old": "1"}  # the source is untouched


def test_cp_with_copy_cutoff_0_copies_in_parts_of_the_given_size(mpu, boto, bucket, key):
    # 16 MiB in 5 MiB parts: 5 + 5 + 6 (a tail under 5 MiB would be folded into the part
    # before it, so a 12 MiB object makes 2 parts, not 3)
    size = 16 * MiB
    data = put(boto, bucket, f"{key}/src.bin", size, Metadata={"kept": "yes"})
    report = mpu.json("cp", f"s3://{bucket}/{key}/src.bin", f"s3://{bucket}/{key}/dst.bin",
                      "--copy-cutoff", "0", "--part-size", "5MiB", "--concurrency", "2",
                      "--no-progress")
    assert report["method"] == "UploadPartCopy" and report["parts"] == 3
    assert report["bytes_copied"] == size and report["bytes_uploaded"] == 0
    assert report["size"] == size and report["object"]["size"] == size
    assert report["source"] == f"s3://{bucket}/{key}/src.bin"
    assert report["url"] == f"s3://{bucket}/{key}/dst.bin"
    head = boto.head_object(Bucket=bucket, Key=f"{key}/dst.bin")
    assert head["ETag"] == report["object"]["etag"] and head["ETag"].endswith('-3"')
    assert head["Metadata"] == {"kept": "yes"}  # no --metadata: the source's are kept
    assert body(boto, bucket, f"{key}/dst.bin") == data
    assert incomplete_uploads(boto, bucket, f"{key}/dst.bin") == []

    # and a cutoff above the size: one CopyObject, whatever the server's "auto" would do
    single = mpu.json("cp", f"s3://{bucket}/{key}/src.bin", f"s3://{bucket}/{key}/one.bin",
                      "--copy-cutoff", "20MiB", "--part-size", "5MiB")
    assert single["method"] == "CopyObject" and single["parts"] == 1
    assert "-" not in boto.head_object(Bucket=bucket, Key=f"{key}/one.bin")["ETag"]
    assert body(boto, bucket, f"{key}/one.bin") == data


# --- put / cp FILE URL ---------------------------------------------------------------------------

def test_put_then_put_resume_with_no_upload_to_resume_starts_a_new_one(mpu, boto, bucket,
                                                                       key, tmp_path):
    path, data = local_file(tmp_path, "data.bin", 11 * MiB)
    url = f"mpu://{bucket}/{key}"
    done = mpu("put", path, url, "--part-size", "5MiB", "--max-memory", "10MiB")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"uploaded {path} → {url}: 11 MiB in 3 parts")
    assert "resumed" not in done.stdout
    assert body(boto, bucket, key) == data

    changed = os.urandom(11 * MiB)
    (tmp_path / "data.bin").write_bytes(changed)
    report = mpu.json("put", "--resume", path, url, "--part-size", "5MiB")
    assert report["resumed"] is False and report["parts_kept"] == 0
    assert report["parts_sent"] == report["parts"] == 3 and report["bytes_sent"] == 11 * MiB
    assert report["parts_replaced"] == [] and report["upload_id"]
    assert report["object"]["etag"] == boto.head_object(Bucket=bucket, Key=key)["ETag"]
    assert body(boto, bucket, key) == changed
    assert incomplete_uploads(boto, bucket, key) == []


def test_put_resume_keeps_matching_parts_and_replaces_changed_ones(mpu, boto, bucket, key,
                                                                   tmp_path):
    path, data = local_file(tmp_path, "data.bin", 12 * MiB)
    upload_id = boto.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    try:
        boto.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1,
                         Body=data[:5 * MiB])
        boto.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=2,
                         Body=os.urandom(5 * MiB))  # not the file's bytes: sent again
        done = mpu("put", path, f"s3://{bucket}/{key}", "--resume", "--part-size", "5MiB")
    finally:
        if incomplete_uploads(boto, bucket, key):
            boto.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    assert done.returncode == 0, done.stderr
    assert (f"12 MiB in 3 parts; resumed upload {upload_id}: kept 1, sent 2, replaced part 2"
            in done.stdout)
    assert body(boto, bucket, key) == data
    assert incomplete_uploads(boto, bucket, key) == []


def test_cp_file_to_a_url_ending_in_slash_takes_the_file_name(mpu, boto, bucket, key,
                                                             tmp_path):
    path, data = local_file(tmp_path, "table.csv", 3000)
    report = mpu.json("cp", path, f"s3://{bucket}/{key}/", "--metadata", "source=cli")
    assert report["url"] == f"s3://{bucket}/{key}/table.csv"
    assert report["upload_id"] is None and report["parts"] == 1  # one PutObject
    head = boto.head_object(Bucket=bucket, Key=f"{key}/table.csv")
    assert head["Metadata"] == {"source": "cli"}
    assert head["ContentType"] == "text/csv"  # guessed from the name, as aws-cli does
    assert body(boto, bucket, f"{key}/table.csv") == data


# --- compose -----------------------------------------------------------------------------------

def test_compose_three_objects_is_byte_exact(mpu, boto, bucket, key):
    sizes = {"a": MiB, "b": 6 * MiB, "c": 100}
    parts = [put(boto, bucket, f"{key}/{name}", size) for name, size in sizes.items()]
    sources = [f"s3://{bucket}/{key}/{name}" for name in sizes]
    report = mpu.json("compose", *sources, f"mpu://{bucket}/{key}/all.bin",
                      "--metadata", "parts=3", "--content-type", "application/x-all")
    assert report["sources"] == sources and report["url"] == f"mpu://{bucket}/{key}/all.bin"
    assert report["size"] == sum(sizes.values()) == report["object"]["size"]
    assert report["bytes_copied"] + report["bytes_uploaded"] == sum(sizes.values())
    assert body(boto, bucket, f"{key}/all.bin") == b"".join(parts)
    head = boto.head_object(Bucket=bucket, Key=f"{key}/all.bin")
    assert head["Metadata"] == {"parts": "3"} and head["ContentType"] == "application/x-all"
    assert incomplete_uploads(boto, bucket, f"{key}/all.bin") == []

    done = mpu("compose", sources[2], sources[0], f"s3://{bucket}/{key}/two.bin")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"composed 2 objects → s3://{bucket}/{key}/two.bin: ")
    assert body(boto, bucket, f"{key}/two.bin") == parts[2] + parts[0]


# --- cp URL PATH -------------------------------------------------------------------------------

def test_cp_url_to_local_downloads_byte_exact(mpu, boto, bucket, key, tmp_path):
    data = put(boto, bucket, f"{key}/obj.bin", 7 * MiB + 3)
    into_dir = mpu("cp", f"s3://{bucket}/{key}/obj.bin", str(tmp_path))
    assert into_dir.returncode == 0, into_dir.stderr
    assert into_dir.stdout.startswith(f"downloaded s3://{bucket}/{key}/obj.bin → "
                                      f"{tmp_path / 'obj.bin'}: 7.0 MiB")
    assert (tmp_path / "obj.bin").read_bytes() == data

    target = tmp_path / "new" / "dir" / "copy.bin"
    report = mpu.json("cp", f"mpu://{bucket}/{key}/obj.bin", str(target), "--part-size",
                      "5MiB", "--concurrency", "2")
    assert report["path"] == str(target) and report["size"] == len(data)
    assert report["etag"] == boto.head_object(Bucket=bucket, Key=f"{key}/obj.bin")["ETag"]
    assert target.read_bytes() == data
    assert hashlib.md5(target.read_bytes()).hexdigest() == hashlib.md5(data).hexdigest()
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".mpu-download")]
    assert leftovers == []


# --- errors ------------------------------------------------------------------------------------

def test_metadata_without_equals_is_a_usage_error_naming_the_fix(mpu, boto, bucket, key):
    put(boto, bucket, f"{key}/src.bin", 10)
    done = mpu("cp", f"s3://{bucket}/{key}/src.bin", f"s3://{bucket}/{key}/dst.bin",
               "--metadata", "owner")
    assert done.returncode == 2, done.stderr
    assert "--metadata 'owner' is not KEY=VALUE" in done.stderr
    assert "--metadata owner=data-team" in done.stderr
    assert done.stdout == ""
    assert not object_exists(boto, bucket, f"{key}/dst.bin")


@pytest.mark.parametrize("argv, message", [
    (["cp", "{tmp}/a.bin", "{tmp}/b.bin"], "both are local paths"),
    (["put", "s3://{bucket}/x", "s3://{bucket}/y"], "give a local FILE and an mpu:// or s3://"),
    (["compose", "{tmp}/a.bin", "s3://{bucket}/y"], "is not an mpu:// or s3:// URL"),
    (["cp", "s3://{bucket}/x", "s3://{bucket}/y", "--resume"], "--resume and --upload-id are "
                                                               "for uploads"),
    (["cp", "{tmp}/a.bin", "s3://{bucket}/y", "--copy-cutoff", "0"], "--copy-cutoff is for "
                                                                      "URL-to-URL"),
    (["cp", "s3://{bucket}/x", "s3://{bucket}/y", "--part-size", "lots"],
     "--part-size='lots' is not a size"),
    (["put", "{tmp}/a.bin", "s3://{bucket}/y", "--part-size", "64MiB", "--max-memory", "32MiB"],
     "max_memory=32 MiB holds less than one part (part_size=64 MiB)"),
    (["cp", "s3://{bucket}/x", "{tmp}/b.bin", "--max-memory", "64MiB"],
     "--max-memory is for uploads"),
])
def test_misuse_is_exit_2_with_a_message(mpu, boto, bucket, tmp_path, argv, message):
    (tmp_path / "a.bin").write_bytes(b"local bytes")
    done = mpu(*[a.format(tmp=tmp_path, bucket=bucket) for a in argv])
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and done.stdout == ""
    assert not (tmp_path / "b.bin").exists()
    assert not object_exists(boto, bucket, "y")


def test_a_missing_source_fails_with_exit_1_naming_it(mpu, boto, bucket, key, tmp_path):
    missing = f"s3://{bucket}/{key}/missing.bin"
    put(boto, bucket, f"{key}/there.bin", 6 * MiB)
    for argv in (["cp", missing, f"s3://{bucket}/{key}/dst.bin"],
                 ["cp", missing, str(tmp_path / "dst.bin")],
                 ["compose", f"s3://{bucket}/{key}/there.bin", missing,
                  f"s3://{bucket}/{key}/dst.bin"]):
        done = mpu(*argv)
        assert done.returncode == 1, (argv, done.stderr)
        assert missing in done.stderr and "Traceback" not in done.stderr
        assert done.stdout == ""
    assert not object_exists(boto, bucket, f"{key}/dst.bin")
    assert incomplete_uploads(boto, bucket, f"{key}/dst.bin") == []
    assert list(tmp_path.iterdir()) == []  # no partial or temporary file


def test_the_secret_is_never_printed_even_with_debug_logging(mpu, boto, bucket, key,
                                                             tmp_path):
    path, _ = local_file(tmp_path, "f.bin", 6 * MiB)
    # Mpu checks stdout and stderr of every call for the secret; -vv logs requests
    for argv in (["put", path, f"s3://{bucket}/{key}/a", "--part-size", "5MiB"],
                 ["cp", f"s3://{bucket}/{key}/a", f"s3://{bucket}/{key}/b", "--copy-cutoff",
                  "0", "--part-size", "5MiB"],
                 ["compose", f"s3://{bucket}/{key}/a", f"s3://{bucket}/{key}/b",
                  f"s3://{bucket}/{key}/c"],
                 ["cp", f"s3://{bucket}/{key}/c", str(tmp_path / "c.bin")]):
        done = mpu(*argv, verbose=True)
        assert done.returncode == 0, done.stderr
        assert "DEBUG" in done.stderr  # the debug log was on, and held no secret
    assert (tmp_path / "c.bin").stat().st_size == 12 * MiB
    assert json.loads(mpu("cp", f"s3://{bucket}/{key}/c", f"s3://{bucket}/{key}/d",
                          "--json").stdout)["size"] == 12 * MiB


# --- --no-clobber: never replace the destination ------------------------------------------------

@pytest.mark.parametrize("size", [100, 7 * MiB], ids=["put", "multipart"])
def test_no_clobber_refuses_an_existing_destination_in_every_direction(mpu, boto, bucket, key,
                                                                       tmp_path, size):
    kept = put(boto, bucket, f"{key}/taken", 10)
    src = put(boto, bucket, f"{key}/src", size)
    path, _ = local_file(tmp_path, "local.bin", size)
    taken = f"mpu://{bucket}/{key}/taken"
    for argv in (["put", path, taken], ["cp", path, taken],
                 ["cp", f"mpu://{bucket}/{key}/src", taken],
                 ["compose", f"mpu://{bucket}/{key}/src", f"mpu://{bucket}/{key}/src", taken]):
        done = mpu(*argv, "--no-clobber")
        assert done.returncode == 1, (argv, done.stderr)
        assert "already exists" in done.stderr and len(done.stderr.splitlines()) == 1, argv
    assert body(boto, bucket, f"{key}/taken") == kept
    assert incomplete_uploads(boto, bucket, f"{key}/taken") == []
    done = mpu("cp", f"mpu://{bucket}/{key}/src", f"mpu://{bucket}/{key}/new", "--no-clobber")
    assert done.returncode == 0, done.stderr
    assert body(boto, bucket, f"{key}/new") == src
    existing = tmp_path / "existing.bin"
    existing.write_bytes(b"mine")
    done = mpu("cp", f"mpu://{bucket}/{key}/src", str(existing), "--no-clobber")
    assert done.returncode == 1 and "exists" in done.stderr, done.stderr
    assert existing.read_bytes() == b"mine"
    assert sorted(os.listdir(tmp_path)) == ["existing.bin", "local.bin"]  # no partial left


# --- --checksum ---------------------------------------------------------------------------------

def test_cp_upload_with_checksum_sends_that_mode_and_refuses_it_elsewhere(mpu, boto, bucket,
                                                                          key, tmp_path):
    path, data = local_file(tmp_path, "f.bin", 6 * MiB + 5)
    done = mpu("cp", path, f"mpu://{bucket}/{key}/f.bin", "--checksum", "crc64nvme",
               "--part-size", "5MiB", verbose=True)
    assert done.returncode == 0, done.stderr
    assert body(boto, bucket, f"{key}/f.bin") == data
    sent = [line for line in done.stderr.splitlines()
            if line.startswith("DEBUG mpu_toolkit._s3.request: UploadPart")]
    assert len(sent) == 2 and all("'ChecksumCRC64NVME'" in line for line in sent), sent
    assert not any("'ContentMD5'" in line for line in sent)
    copied = mpu("cp", f"mpu://{bucket}/{key}/f.bin", f"mpu://{bucket}/{key}/g.bin",
                 "--checksum", "md5")
    assert copied.returncode != 0 and "--checksum is for uploads" in copied.stderr
    assert not object_exists(boto, bucket, f"{key}/g.bin")
    typo = mpu("cp", path, f"mpu://{bucket}/{key}/h.bin", "--checksum", "crc32-c")
    assert typo.returncode == 2 and "crc64nvme" in typo.stderr  # argparse names the choices
