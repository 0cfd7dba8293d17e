"""Incomplete multipart uploads as pandas DataFrames: list, parts, usage, abort, lifecycle.

>>> from mpu_toolkit import uploads                                    # doctest: +SKIP
>>> df = uploads.list("mpu://bucket/prefix", storage_options=so)       # one row per upload
>>> uploads.usage(storage_options=so)                                  # totals per bucket
>>> uploads.usage(storage_options=so, price=0.023)                     # + monthly_cost
>>> uploads.abort(df[df.age > "7d"], storage_options=so)               # outcome per upload

URLs are ``mpu://bucket/prefix`` (or ``s3://``); no URL means every bucket the credentials
can list. ``storage_options`` are s3fs's; pass ``fs=`` to reuse a filesystem instead.
"""

from __future__ import annotations

import builtins
import logging
import threading
from typing import Any, Callable, Coroutine, Iterable, Mapping, Sequence, TypeVar

import pandas as pd

from .._engine.blocking import run_blocking
from .._s3.client import S3Client
from ..errors import AccessDenied, ConfigurationError, NoSuchBucket
from ..fs import MPUFileSystem, filesystem
from ..model import UploadInfo
from . import accounting, listing
from . import lifecycle as rules
from .exact_keys import Coverage
from .safe_abort import abort_rows, parse_age, still_present
from .streaming import ListingCallbacks, ListingProgress
from .streaming import stream as _stream

__all__ = ["list", "stream", "parts", "usage", "abort", "recheck", "lifecycle", "lifecycles",
           "set_lifecycle", "remove_lifecycle", "ListingProgress"]

log = logging.getLogger(__name__)
T = TypeVar("T")
URLs = str | Sequence[str] | None


def _run(fs: MPUFileSystem, call: Callable[[S3Client], Coroutine[Any, Any, T]]) -> T:
    """``call(client)`` on the filesystem's loop; an interrupt stops it (see run_blocking)."""
    return run_blocking(fs.loop, call(S3Client(fs)))


def list_uploads(urls: URLs = None, storage_options: Mapping[str, Any] | None = None, *,
                 sizes: bool = True, older_than: str | pd.Timedelta | None = None,
                 page_size: int = 1000, concurrency: int = 16,
                 fs: MPUFileSystem | None = None) -> pd.DataFrame:
    """Every incomplete upload under ``urls``: bucket, key, upload_id, initiated, age,
    storage_class, owner, initiator, parts, bytes, abort_date (oldest first).

    ``sizes=False`` skips the ListParts calls (parts/bytes are then <NA>). On a store that
    lists uploads only by exact key (the provider's ``list_uploads_by_prefix`` is False:
    MinIO), uploads are looked up by the key given and the keys of the objects under it,
    and ``frame.attrs["notice"]`` says what that leaves unseen.
    """
    fs = filesystem(storage_options, fs)
    targets = listing.parse_targets(urls)
    coverage = Coverage(fs.provider)
    records = _run(fs, lambda client: listing.collect(client, targets, sizes=sizes,
                                                      page_size=page_size,
                                                      concurrency=concurrency,
                                                      coverage=coverage))
    frame = listing.to_frame(records)
    cutoff = parse_age(older_than, "older_than")
    if cutoff is not None:
        frame = frame[frame["age"] >= cutoff].reset_index(drop=True)
    return _noticed(frame, coverage.notice())


def _noticed(frame: pd.DataFrame, notice: str | None) -> pd.DataFrame:
    """``frame`` with ``attrs["notice"]``: what its listing could not see (if anything)."""
    if notice:
        frame.attrs["notice"] = notice
    return frame


def stream(urls: URLs = None, storage_options: Mapping[str, Any] | None = None, *,
           on_rows: Callable[[pd.DataFrame], None] | None = None,
           on_sizes: Callable[[pd.DataFrame], None] | None = None,
           on_progress: Callable[[ListingProgress], None] | None = None,
           stop: threading.Event | None = None, sizes: bool = True, page_size: int = 1000,
           concurrency: int = 16, fs: MPUFileSystem | None = None) -> ListingProgress:
    """:func:`list` as it happens, for views of large accounts: ``on_rows(frame)`` gets
    each batch of listed uploads (the columns of :func:`list`, sizes ``<NA>``) as the pages
    arrive, ``on_sizes(frame)`` their sizes as ListParts answers (``upload_id``, ``parts``,
    ``bytes``, ``abort_date``, ``gone``: completed or aborted meanwhile), ``on_progress`` a
    :class:`ListingProgress` after each. Setting ``stop`` ends it within ~0.1 s, requests in
    flight cancelled. Callbacks run on the filesystem's event-loop thread: keep them quick.
    Returns the final progress (``stopped=True`` if stopped).
    """
    fs = filesystem(storage_options, fs)
    targets = listing.parse_targets(urls)
    callbacks = ListingCallbacks(on_rows, on_sizes, on_progress)
    return _run(fs, lambda client: _stream(client, targets, callbacks, stop=stop, sizes=sizes,
                                           page_size=page_size, concurrency=concurrency))


def parts(url: str, upload_id: str, storage_options: Mapping[str, Any] | None = None, *,
          fs: MPUFileSystem | None = None) -> pd.DataFrame:
    """The parts of one upload: number, size, etag, last_modified."""
    fs = filesystem(storage_options, fs)
    ref = fs.object_ref(url)
    found = _run(fs, lambda client: client.list_parts(ref, upload_id))
    frame = pd.DataFrame([(p.number, p.size, p.etag, p.last_modified) for p in found],
                         columns=["number", "size", "etag", "last_modified"])
    frame["last_modified"] = pd.to_datetime(frame["last_modified"], utc=True)
    return frame.astype({"number": "int64", "size": "int64", "etag": "string",
                         "last_modified": "datetime64[ns, UTC]"})


def usage(urls: URLs = None, storage_options: Mapping[str, Any] | None = None, *,
          by: accounting.GroupBy = "bucket", objects: bool = False, prefix_depth: int = 1,
          price: accounting.Price | None = None, uploads: pd.DataFrame | None = None,
          fs: MPUFileSystem | None = None) -> pd.DataFrame:
    """Storage held by incomplete uploads per bucket, top-level prefix or age band.

    ``objects=True`` also sums the completed objects (a full listing: it costs a scan) and
    adds ``object_bytes`` and ``share``. ``price`` (per GiB-month, your provider's: none is
    built in) adds ``monthly_cost`` next to ``bytes``. Pass ``uploads=`` to reuse a frame
    from :func:`list`.
    """
    rate = accounting.parse_price(price)  # a bad price is refused before any request
    fs = filesystem(storage_options, fs)
    frame = uploads if uploads is not None else list_uploads(urls, fs=fs)
    object_bytes = None
    if objects:  # every object of the buckets: the scan `objects` asks for
        buckets = builtins.list(frame["bucket"].astype(str).unique())
        object_bytes = _run(fs, lambda client: accounting.object_bytes(
            client, buckets, prefix_depth if by == "prefix" else 0))
    return _noticed(accounting.summarize(frame, by, prefix_depth=prefix_depth,
                                         object_bytes=object_bytes, price=rate),
                    frame.attrs.get("notice"))


def _rows_of(target: Any, fs: MPUFileSystem, older_than: pd.Timedelta | None) -> pd.DataFrame:
    """What to abort, as rows of the uploads frame (looked up where only ids are given)."""
    if isinstance(target, pd.DataFrame):
        missing = {"bucket", "key", "upload_id"} - set(target.columns)
        if missing:
            raise ConfigurationError(f"the frame to abort lacks columns {sorted(missing)}: "
                                     "pass rows of uploads.list(...)")
        wanted = target
    else:
        items = [target] if isinstance(target, str) else builtins.list(target)
        if items and all(isinstance(i, str) for i in items):  # URLs: every upload under them
            frame = list_uploads(items, fs=fs)
            return frame if older_than is None else frame[frame["age"] >= older_than]
        triples = [(u.bucket, u.key, u.upload_id) if isinstance(u, UploadInfo) else tuple(u)
                   for u in items]
        if any(len(t) != 3 for t in triples):
            raise ConfigurationError("abort() takes a DataFrame from uploads.list, a URL, or "
                                     "(bucket, key, upload_id) triples / UploadInfo objects")
        wanted = pd.DataFrame(triples, columns=["bucket", "key", "upload_id"])
    if "initiated" not in wanted.columns or "age" not in wanted.columns:
        listed = list_uploads([f"{b}/{k}" for b, k in
                               set(zip(wanted["bucket"], wanted["key"]))], fs=fs)
        info = listed.drop(columns=["bucket", "key"], errors="ignore")
        wanted = wanted[["bucket", "key", "upload_id"]].merge(info, on="upload_id", how="left")
    return wanted if older_than is None else wanted[wanted["age"] >= older_than]


def abort(target: pd.DataFrame | str | Iterable[Any], storage_options: Mapping[str, Any] |
          None = None, *, min_age: str | pd.Timedelta | None = "1h",
          older_than: str | pd.Timedelta | None = None, force: bool = False,
          dry_run: bool = False, concurrency: int = 8,
          fs: MPUFileSystem | None = None) -> pd.DataFrame:
    """Abort uploads; returns one row per upload with ``outcome`` and ``reason``.

    ``target``: rows of :func:`list`, a URL (every upload under it), or
    ``(bucket, key, upload_id)`` triples. Uploads younger than ``min_age`` are skipped
    unless ``force`` (they may be live writers); ``older_than`` filters the target first;
    ``dry_run`` reports what would be aborted. Never stops half-way on one failure.
    """
    fs = filesystem(storage_options, fs)
    protect, cutoff = parse_age(min_age, "min_age"), parse_age(older_than, "older_than")
    rows = _rows_of(target, fs, cutoff).reset_index(drop=True)
    return _noticed(_run(fs, lambda client: abort_rows(client, rows, min_age=protect,
                                                       force=force, dry_run=dry_run,
                                                       concurrency=concurrency)),
                    rows.attrs.get("notice"))


def recheck(rows: pd.DataFrame, storage_options: Mapping[str, Any] | None = None, *,
            concurrency: int = 8, fs: MPUFileSystem | None = None) -> pd.DataFrame:
    """Look each upload of ``rows`` (``bucket``, ``key``, ``upload_id``: e.g. the result of
    :func:`abort`) up again on the server: one row per upload with ``present`` (False:
    gone). What an abort's report shows as "confirmed on the server"."""
    missing = {"bucket", "key", "upload_id"} - set(rows.columns)
    if missing:
        raise ConfigurationError(f"recheck needs the columns {sorted(missing)}: pass rows of "
                                 "uploads.list(...) or the result of uploads.abort(...)")
    fs = filesystem(storage_options, fs)
    return _run(fs, lambda client: still_present(client, rows, concurrency))


def _bucket_of(url: str, fs: MPUFileSystem) -> tuple[str, str]:
    bucket, prefix, _ = fs.split_path(url)
    if not bucket:
        raise ConfigurationError(f"{url!r} names no bucket: use mpu://bucket")
    return bucket, prefix


def lifecycle(url: str, storage_options: Mapping[str, Any] | None = None, *,
              fs: MPUFileSystem | None = None) -> pd.DataFrame:
    """The bucket's lifecycle rules (one row each)."""
    fs = filesystem(storage_options, fs)
    bucket, _ = _bucket_of(url, fs)
    return rules.rules_frame(bucket, _run(fs, lambda client: client.get_lifecycle_rules(bucket)))


def lifecycles(buckets: Iterable[str], storage_options: Mapping[str, Any] | None = None, *,
               skipped: builtins.list[str] | None = None,
               fs: MPUFileSystem | None = None) -> pd.DataFrame:
    """The lifecycle rules of every bucket of ``buckets``, as one frame (what pictures and
    ``mpu du --by age`` mark cut-offs with). A bucket whose rules may not be read, or that
    is gone, counts as having none; ``skipped`` receives "bucket: why" for each."""
    fs = filesystem(storage_options, fs)
    found = []
    for bucket in sorted(set(buckets)):
        try:
            found.append(lifecycle(f"mpu://{bucket}", fs=fs))
        except (AccessDenied, NoSuchBucket) as exc:
            if skipped is not None:
                skipped.append(f"{bucket}: {exc}")
    return pd.concat([f for f in found if len(f)] or [rules.rules_frame("", [])],
                     ignore_index=True)


def set_lifecycle(url: str, days: int, storage_options: Mapping[str, Any] | None = None, *,
                  rule_id: str = rules.RULE_ID, fs: MPUFileSystem | None = None) -> pd.DataFrame:
    """Abort uploads under ``url``'s prefix ``days`` after initiation; keeps other rules."""
    fs = filesystem(storage_options, fs)
    bucket, prefix = _bucket_of(url, fs)
    if prefix and not prefix.endswith("/"):
        log.warning("the rule applies to every key that starts with %r (%sfoo/ too); end the "
                    "URL with / for the folder %s/ only", prefix, prefix, prefix)
    return rules.rules_frame(bucket, _run(fs, lambda client: rules.set_abort_rule(
        client, bucket, days, prefix=prefix, rule_id=rule_id)))


def remove_lifecycle(url: str, storage_options: Mapping[str, Any] | None = None, *,
                     rule_id: str = rules.RULE_ID,
                     fs: MPUFileSystem | None = None) -> pd.DataFrame:
    """Remove the abort rule ``rule_id`` only."""
    fs = filesystem(storage_options, fs)
    bucket, _ = _bucket_of(url, fs)
    return rules.rules_frame(bucket, _run(fs, lambda client: rules.remove_abort_rule(
        client, bucket, rule_id=rule_id)))


list = list_uploads  # noqa: A001
""":func:`list_uploads` by its documented name: ``uploads.list(...)``."""
