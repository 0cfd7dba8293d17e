"""uploads.list / parts / usage / abort against the real server."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from mpu_toolkit.testing.faults import FaultProxy
from helpers import incomplete_uploads

from mpu_toolkit import ConfigurationError, MPUFileSystem, uploads
from mpu_toolkit.inventory.listing import COLUMNS


def start(boto, bucket: str, key: str, part_sizes: list[int]) -> str:
    upload_id = boto.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    for number, size in enumerate(part_sizes, start=1):
        boto.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                         Body=bytes([number]) * size)
    return upload_id


def test_list_pages_through_many_uploads_of_the_same_keys(fs, boto, bucket, key, server):
    """More uploads than one page, several per key: each listed once with exact sizes.
    (On RGW the page size really pages; moto ignores it and answers in one page.)"""
    made = {}
    for i, k in enumerate(["a/1", "a/1", "a/1", "a/2", "b/1", "b/1", "c"]):
        sizes = [100 * (i + 1), 7, 1 + i]
        made[start(boto, bucket, f"{key}/{k}", sizes)] = (f"{key}/{k}", len(sizes), sum(sizes))
    df = uploads.list(f"mpu://{bucket}/{key}/", fs=fs, page_size=2, concurrency=3)
    assert sorted(df["upload_id"]) == sorted(made)
    for row in df.itertuples():
        assert (row.key, row.parts, row.bytes) == made[row.upload_id]
    assert dict(df.dtypes.astype(str)) == COLUMNS
    assert df["initiated"].is_monotonic_increasing
    assert (df["age"] >= pd.Timedelta(0)).all() and (df["bucket"] == bucket).all()


def test_listing_really_pages_and_loses_nothing(server, storage_options, boto, bucket, key):
    """Counted at the wire: 7 uploads with page_size=2 take 4 ListMultipartUploads pages and
    ListParts with page_size=1 takes one request per part."""
    if server.is_moto:
        pytest.skip("moto ignores MaxUploads/MaxParts and answers in one page; runs on RGW")
    ids = [start(boto, bucket, f"{key}/{k}", [10, 20]) for k in "aaabbcd"]
    proxy = FaultProxy(server.endpoint_url).start()
    try:
        fs = MPUFileSystem(**{**storage_options, "endpoint_url": proxy.endpoint_url},
                           skip_instance_cache=True)
        df = uploads.list(f"mpu://{bucket}/{key}/", fs=fs, page_size=2)
        parts = uploads.parts(f"mpu://{bucket}/{key}/a", ids[0], fs=fs)
    finally:
        proxy.stop()
    assert sorted(df["upload_id"]) == sorted(ids) and len(set(df["upload_id"])) == 7
    assert proxy.seen.count("ListMultipartUploads") == 4
    assert list(parts["number"]) == [1, 2]


def test_list_without_sizes_and_across_all_buckets(fs, boto, bucket, key):
    upload_id = start(boto, bucket, key, [10])
    quick = uploads.list(f"s3://{bucket}/{key}", fs=fs, sizes=False)
    assert list(quick["upload_id"]) == [upload_id] and quick["bytes"].isna().all()
    everywhere = uploads.list(fs=fs)  # every bucket the credentials can list
    assert upload_id in set(everywhere["upload_id"])


def test_parts_of_one_upload(fs, boto, bucket, key):
    upload_id = start(boto, bucket, key, [5, 6, 7])
    parts = uploads.parts(f"mpu://{bucket}/{key}", upload_id, fs=fs)
    assert list(parts["number"]) == [1, 2, 3] and list(parts["size"]) == [5, 6, 7]
    assert parts["etag"].str.len().gt(0).all()
    assert str(parts["last_modified"].dtype) == "datetime64[ns, UTC]"


def test_usage_per_bucket_prefix_and_age_with_share_of_space(fs, boto, bucket, key):
    start(boto, bucket, f"{key}/x/1", [1000, 1000])
    start(boto, bucket, f"{key}/x/2", [500])
    start(boto, bucket, f"{key}/y/1", [250])
    boto.put_object(Bucket=bucket, Key=f"{key}/x/done", Body=b"z" * 7500)
    frame = uploads.list(f"mpu://{bucket}/{key}/", fs=fs)
    per_prefix = uploads.usage(uploads=frame, by="prefix", prefix_depth=2, objects=True, fs=fs)
    x = per_prefix.set_index("prefix").loc[f"{key}/x/"]
    assert (x["uploads"], x["parts"], x["bytes"], x["object_bytes"]) == (2, 3, 2500, 7500)
    assert x["share"] == pytest.approx(2500 / 10_000)
    per_bucket = uploads.usage(uploads=frame, fs=fs)
    assert list(per_bucket["bytes"]) == [2750] and list(per_bucket["uploads"]) == [3]
    assert per_bucket["oldest"].iloc[0] == frame["initiated"].min()
    by_age = uploads.usage(uploads=frame, by="age", fs=fs)
    assert by_age["uploads"].sum() == 3


def test_usage_with_a_price_gives_the_monthly_cost_per_bucket_prefix_and_age(fs, boto,
                                                                              bucket, key):
    start(boto, bucket, f"{key}/x/1", [6 << 20, 2 << 20])  # 8 MiB
    start(boto, bucket, f"{key}/y/1", [1 << 20])           # 1 MiB
    frame = uploads.list(f"mpu://{bucket}/{key}/", fs=fs)
    per_bucket = uploads.usage(uploads=frame, price=0.5, fs=fs)
    assert list(per_bucket["monthly_cost"]) == pytest.approx([(9 << 20) / 2**30 * 0.5])
    assert list(per_bucket.columns).index("monthly_cost") == (
        list(per_bucket.columns).index("bytes") + 1)
    per_prefix = uploads.usage(f"mpu://{bucket}/{key}/", by="prefix", prefix_depth=2,
                               price="0.5", fs=fs).set_index("prefix")["monthly_cost"]
    assert per_prefix.to_dict() == pytest.approx({f"{key}/x/": 8 / 1024 * 0.5,
                                                  f"{key}/y/": 1 / 1024 * 0.5})
    by_age = uploads.usage(uploads=frame, by="age", price=0.5, fs=fs)
    assert by_age["monthly_cost"].sum() == pytest.approx(9 / 1024 * 0.5)
    assert "monthly_cost" not in uploads.usage(uploads=frame, fs=fs)


@pytest.mark.parametrize("price", [-1, float("nan"), "inf", "cheap"])
def test_a_bad_price_is_refused_before_any_request(storage_options, proxy, price):
    fs = MPUFileSystem(**{**storage_options, "endpoint_url": proxy.endpoint_url},
                       skip_instance_cache=True)
    from mpu_toolkit import ConfigurationError

    with pytest.raises(ConfigurationError, match="price per GiB-month"):
        uploads.usage(price=price, fs=fs)
    assert proxy.seen == []


def test_dry_run_aborts_nothing(fs, boto, bucket, key):
    upload_id = start(boto, bucket, key, [10])
    result = uploads.abort(f"mpu://{bucket}/{key}", fs=fs, dry_run=True, min_age=None)
    assert list(result["outcome"]) == ["would-abort"]
    assert [u["UploadId"] for u in incomplete_uploads(boto, bucket, key)] == [upload_id]


def test_abort_by_rows_triples_and_url_with_per_upload_outcomes(fs, boto, bucket, key):
    ids = [start(boto, bucket, f"{key}/{i}", [10, 20]) for i in range(3)]
    frame = uploads.list(f"mpu://{bucket}/{key}/", fs=fs)
    by_rows = uploads.abort(frame[frame["upload_id"] == ids[0]], fs=fs, min_age=None)
    by_triples = uploads.abort([(bucket, f"{key}/1", ids[1]), (bucket, f"{key}/1", "no-such")],
                               fs=fs, min_age=None)
    by_url = uploads.abort(f"mpu://{bucket}/{key}/", fs=fs, min_age=None)
    assert list(by_rows["outcome"]) == ["aborted"]
    assert list(by_triples["outcome"]) == ["aborted", "gone"]
    assert list(by_url["outcome"]) == ["aborted"] and list(by_url["upload_id"]) == [ids[2]]
    assert list(by_rows["bytes"]) == [30]
    assert uploads.list(f"mpu://{bucket}/{key}/", fs=fs).empty


def test_abort_of_an_upload_completed_meanwhile_reports_gone(fs, boto, bucket, key):
    upload_id = start(boto, bucket, key, [10])
    frame = uploads.list(f"mpu://{bucket}/{key}", fs=fs)
    etag = boto.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"][0]["ETag"]
    boto.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag}]})
    result = uploads.abort(frame, fs=fs, min_age=None)
    assert list(result["outcome"]) == ["gone"]
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == b"\x01" * 10


def test_young_uploads_are_protected_unless_forced(fs, boto, bucket, key):
    """On every server, moto included (the local server reports real Initiated dates)."""
    upload_id = start(boto, bucket, key, [10])
    time.sleep(1)
    [age] = uploads.list(f"mpu://{bucket}/{key}", fs=fs)["age"]
    assert pd.Timedelta(seconds=0.5) <= age < pd.Timedelta(minutes=5)
    protected = uploads.abort(f"mpu://{bucket}/{key}", fs=fs, min_age="1h")
    assert list(protected["outcome"]) == ["skipped"]
    assert "younger than 1h" in protected["reason"].iloc[0]
    assert [u["UploadId"] for u in incomplete_uploads(boto, bucket, key)] == [upload_id]
    old_only = uploads.list(f"mpu://{bucket}/{key}", fs=fs, older_than="1d")
    assert old_only.empty
    forced = uploads.abort(f"mpu://{bucket}/{key}", fs=fs, min_age="1h", force=True)
    assert list(forced["outcome"]) == ["aborted"]
    assert incomplete_uploads(boto, bucket, key) == []


def test_a_failing_abort_does_not_stop_the_batch(fs, boto, bucket, key):
    good = start(boto, bucket, key, [10])
    rows = pd.DataFrame({"bucket": ["mpu-no-such-bucket-77", bucket], "key": [key, key],
                         "upload_id": ["x", good], "initiated": pd.Timestamp("2020-01-01",
                                                                              tz="UTC"),
                         "age": pd.Timedelta(days=2000)})
    result = uploads.abort(rows, fs=fs)
    assert list(result["outcome"]) in (["failed", "aborted"], ["gone", "aborted"])
    if result["outcome"].iloc[0] == "failed":
        assert "mpu-no-such-bucket-77" in result["reason"].iloc[0]
    assert incomplete_uploads(boto, bucket, key) == []


def test_bad_arguments_say_what_to_do(fs):
    from mpu_toolkit import ConfigurationError

    with pytest.raises(ConfigurationError, match="'1h', '30min'"):
        uploads.abort("mpu://bucket", fs=fs, min_age="soon")
    with pytest.raises(ConfigurationError, match="lacks columns"):
        uploads.abort(pd.DataFrame({"key": ["k"]}), fs=fs)
    with pytest.raises(ConfigurationError, match="triples"):
        uploads.abort([("only-two", "items")], fs=fs)
    with pytest.raises(ConfigurationError,
                       match="'bucket', 'prefix', 'age', 'storage_class' or 'started'"):
        uploads.usage(uploads=pd.DataFrame(columns=list(COLUMNS)), by="owner", fs=fs)


def test_recheck_looks_each_upload_up_again_on_the_server(fs, boto, bucket, key):
    kept, aborted = (start(boto, bucket, f"{key}/{name}", [10]) for name in ("kept", "gone"))
    result = uploads.abort(uploads.list(f"mpu://{bucket}/{key}/gone", fs=fs), fs=fs,
                           min_age=None)
    assert list(result["outcome"]) == ["aborted"]
    both = uploads.list(f"mpu://{bucket}/{key}/kept", fs=fs)[["bucket", "key", "upload_id"]]
    both = pd.concat([both, result[["bucket", "key", "upload_id"]]], ignore_index=True)
    checked = uploads.recheck(both, fs=fs).set_index("upload_id")["present"]
    assert checked.to_dict() == {kept: True, aborted: False}
    with pytest.raises(ConfigurationError, match="recheck needs the columns"):
        uploads.recheck(both.drop(columns="key"), fs=fs)
