"""uploads.stream: rows as the pages come, sizes as ListParts answers, a stop that stops."""

from __future__ import annotations

import threading
import time

import pandas as pd
from helpers import proxied_fs

from mpu_toolkit import uploads


def start(boto, bucket: str, key: str, parts: int) -> str:
    upload_id = boto.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    for number in range(1, parts + 1):
        boto.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                         Body=b"x" * (100 * number))
    return upload_id


def test_rows_then_sizes_arrive_in_batches_and_add_up(fs, boto, bucket, key):
    ids = {start(boto, bucket, f"{key}/{n}", parts=n % 3 + 1): n for n in range(7)}
    batches, sizes, progress = [], [], []
    final = uploads.stream(f"mpu://{bucket}/{key}/", fs=fs, page_size=3, on_rows=batches.append,
                           on_sizes=sizes.append, on_progress=progress.append)
    rows = pd.concat(batches, ignore_index=True)
    assert sorted(rows["upload_id"]) == sorted(ids) and rows["bytes"].isna().all()
    assert list(rows.columns) == list(uploads.list(f"mpu://{bucket}/{key}/", fs=fs).columns)
    sized = pd.concat(sizes, ignore_index=True).set_index("upload_id")
    assert not sized["gone"].any()
    for upload_id, n in ids.items():
        parts = n % 3 + 1
        assert sized.loc[upload_id, "parts"] == parts
        assert sized.loc[upload_id, "bytes"] == sum(100 * p for p in range(1, parts + 1))
    assert (final.listed, final.sized, final.done, final.stopped) == (7, 7, True, False)
    assert progress[-1] == final and str(final).startswith("done: 7 uploads listed, 7 sized")
    listed = [p.listed for p in progress]
    assert listed == sorted(listed)  # progress only grows


def test_stop_ends_it_within_moments_and_keeps_what_was_seen(proxy, storage_options, boto,
                                                            bucket, key):
    for n in range(6):
        start(boto, bucket, f"{key}/{n}", parts=1)
    # sizes would take long; the bound below is far from both 0.1 s and 30 s, so that a loaded
    # machine (CI's ran one test in 6 s) cannot fail it, and a stop that waits still does
    proxy.fail("ListParts", "delay", times=10_000, seconds=30)
    fs = proxied_fs(proxy, storage_options)
    stop, rows = threading.Event(), []

    def on_rows(frame: pd.DataFrame) -> None:
        rows.append(frame)
        stop.set()  # as a Stop button would, once the first rows are on screen

    began = time.monotonic()
    final = uploads.stream(f"mpu://{bucket}/{key}/", fs=fs, on_rows=on_rows, stop=stop)
    assert time.monotonic() - began < 12  # not the 30 s of one ListParts
    assert final.stopped and not final.done and final.listed == 6 and final.sized == 0
    assert sum(len(r) for r in rows) == 6


def test_an_upload_gone_before_it_is_sized_is_reported_gone(proxy, storage_options, boto,
                                                           bucket, key):
    upload_id = start(boto, bucket, f"{key}/a", parts=1)
    proxy.fail("ListParts", "delay", times=1, seconds=1.5)
    fs = proxied_fs(proxy, storage_options)
    sizes = []

    def on_rows(frame: pd.DataFrame) -> None:  # aborted while its ListParts is on its way
        boto.abort_multipart_upload(Bucket=bucket, Key=f"{key}/a", UploadId=upload_id)

    uploads.stream(f"mpu://{bucket}/{key}/", fs=fs, on_rows=on_rows, on_sizes=sizes.append)
    sized = pd.concat(sizes, ignore_index=True)
    assert sized["gone"].tolist() == [True] and sized["bytes"].isna().all()


def test_a_sizing_that_fails_for_good_fails_the_listing_after_the_rows(proxy, storage_options,
                                                                        boto, bucket, key):
    """Before: the failed ListParts tasks were dropped ("Task exception was never retrieved")
    and the listing said "done" with sizes missing."""
    import pytest

    from mpu_toolkit import MPUError

    ids = {start(boto, bucket, f"{key}/{n}", parts=1) for n in range(3)}
    proxy.fail("ListParts", "500", times=10_000, path=f"/{key}/1")  # one upload's, for good
    batches: list[pd.DataFrame] = []
    with pytest.raises(MPUError, match=f"ListParts on mpu://{bucket}/{key}/1"):
        uploads.stream(f"mpu://{bucket}/{key}/", fs=proxied_fs(proxy, storage_options),
                       on_rows=batches.append)
    assert set(pd.concat(batches)["upload_id"]) == ids  # the rows came first
