"""A typed program using mpu_toolkit's write functions with correct options: mypy must pass
it (tests/test_typing.py). Never run, only type-checked."""

from __future__ import annotations

import pandas as pd

import mpu_toolkit
from mpu_toolkit import (MPUFileSystem, compose, copy, open_writer, start_upload, upload_file,
                         write_csv, write_jsonl, write_parquet)
from mpu_toolkit.dask.dataset import to_dataset
from mpu_toolkit.dask.single_object import to_single_object

SO = {"endpoint_url": "http://127.0.0.1:9000"}


def stream(frame: pd.DataFrame, fs: MPUFileSystem) -> None:
    with open_writer("mpu://bucket/big.bin", storage_options=SO, part_size="16MiB",
                     concurrency=8, max_memory="256MiB", checksum="crc64nvme", exclusive=True,
                     metadata={"owner": "me"}, ServerSideEncryption="AES256",
                     progress=False) as writer:
        writer.write(b"bytes")
    with fs.open_writer("bucket/append.bin", append=True, block_size=8 << 20) as appended:
        appended.write(b"more")
    write_parquet(frame, "mpu://bucket/t.parquet", storage_options=SO, compression="zstd",
                  compression_level=3, use_dictionary=["city"], part_size=8 << 20,
                  keep_parts_on_error=True, Tagging="team=data", ACL="private")
    write_csv(frame, "mpu://bucket/t.csv.gz", sep=";", index=False, na_rep="-",
              storage_class="STANDARD_IA", CacheControl="no-cache")
    write_jsonl(frame, "mpu://bucket/t.jsonl", date_unit="s", force_ascii=False, verify=False)
    upload_file("local.bin", "mpu://bucket/local.bin", resume=True, max_attempts=3,
                content_type="application/octet-stream")
    copy("mpu://bucket/a", "mpu://bucket/b", copy_cutoff="auto", part_size="64MiB",
         storage_class="GLACIER_IR", SSEKMSKeyId="alias/key", ServerSideEncryption="aws:kms")
    compose(["mpu://bucket/a", "mpu://bucket/b"], "mpu://bucket/ab", concurrency=4)
    fs.compose(["bucket/a", "bucket/b"], "bucket/ab", copy_cutoff=0, metadata=None)
    fs.upload_file("local.bin", "bucket/local.bin", part_size_policy="equal", size=1 << 30)
    handle = start_upload("mpu://bucket/h.bin", storage_options=SO, checksum="none",
                          max_attempts=1, ExpectedBucketOwner="123456789012")
    handle.abort()
    mpu_toolkit.write_parquet(frame, "mpu://bucket/u.parquet", row_group_size="64MiB",
                              write_statistics=False)


def dask_jobs(ddf: object) -> None:
    to_single_object(ddf, "mpu://bucket/all.parquet", row_group_size=100_000,
                     preserve_index=False, compression_level=5, metadata={"a": "b"})
    to_dataset(ddf, "mpu://bucket/set/", format="csv", partition_on="country", sep="|",
               storage_class="STANDARD", checksum="md5")
