"""Targets and the uploads frame (pure, no server)."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

from mpu_toolkit import ConfigurationError
from mpu_toolkit.inventory.listing import COLUMNS, Target, UploadRecord, parse_targets, to_frame
from mpu_toolkit.model import UploadInfo
from mpu_toolkit.inventory.safe_abort import format_age, parse_age


def test_parse_targets():
    assert parse_targets(None) == [Target(None)]
    assert parse_targets("mpu://") == [Target(None)]
    assert parse_targets("mpu://b") == [Target("b", "")]
    assert parse_targets(["s3://b/logs/2026", "c/x"]) == [Target("b", "logs/2026"),
                                                          Target("c", "x")]
    with pytest.raises(ConfigurationError):
        parse_targets("mpu://bad bucket/x")


def test_frame_dtypes_order_and_age():
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    records = [UploadRecord(UploadInfo("b", "k2", "u2", t0.replace(hour=5), "STANDARD"), 3, 30),
               UploadRecord(UploadInfo("b", "k1", "u1", t0, None, "me", "me"), 1, 10,
                            t0.replace(day=8))]
    df = to_frame(records, now=pd.Timestamp("2026-01-02", tz="UTC"))
    assert dict(df.dtypes.astype(str)) == COLUMNS
    assert list(df["upload_id"]) == ["u1", "u2"]  # oldest first
    assert list(df["age"]) == [pd.Timedelta(days=1), pd.Timedelta(hours=19)]
    assert df["abort_date"].iloc[0] == pd.Timestamp("2026-01-08", tz="UTC")
    assert df["storage_class"].isna().iloc[0]
    assert to_frame([]).empty and dict(to_frame([]).dtypes.astype(str)) == COLUMNS


@pytest.mark.parametrize("text,seconds", [("1h", 3600), ("7d", 7 * 86400), ("2w", 14 * 86400),
                                          ("30min", 1800), ("90s", 90), ("1.5h", 5400),
                                          ("1 days 02:00:00", 93600)])
def test_parse_age(text, seconds):
    assert parse_age(text).total_seconds() == seconds


def test_parse_age_errors_and_format():
    with pytest.raises(ConfigurationError, match="not a duration"):
        parse_age("soon")
    with pytest.raises(ConfigurationError, match="negative"):
        parse_age("-1h")
    assert parse_age(None) is None
    assert [format_age(pd.Timedelta(s, unit="s")) for s in (0, 45, 3600, 93600, 5400)] == [
        "0s", "45s", "1h", "1d 2h", "1h 30min"]


def test_an_every_bucket_listing_skips_buckets_gone_or_forbidden_meanwhile(caplog):
    """Between ListBuckets and ListMultipartUploads a bucket can be deleted, or be one the
    credentials may not list: the inventory of the others still comes back."""
    import asyncio

    from mpu_toolkit.errors import AccessDenied, NoSuchBucket
    from mpu_toolkit.inventory.listing import collect

    from mpu_toolkit._s3.providers import GENERIC

    class Client:  # the three requests collect() makes, answered by a fake store
        provider = GENERIC  # lists uploads by prefix

        async def list_buckets(self):
            return ["kept", "deleted", "forbidden"]

        async def list_uploads(self, bucket, prefix="", page_size=1000):
            if bucket == "deleted":
                raise NoSuchBucket("gone", bucket=bucket)
            if bucket == "forbidden":
                raise AccessDenied("AccessDenied", bucket=bucket)
            return [UploadInfo(bucket, "k", "id-1", None)]

        async def describe_upload(self, ref, upload_id, page_size=1000):
            raise NoSuchBucket("deleted while sizing", bucket=ref.bucket)

    records = asyncio.run(collect(Client(), parse_targets(None), sizes=False))  # type: ignore
    assert [(r.upload.bucket, r.upload.key) for r in records] == [("kept", "k")]
    assert "mpu://forbidden is left out" in caplog.text
    assert asyncio.run(collect(Client(), parse_targets(None))) == []  # type: ignore
