"""A Dask DataFrame as a dataset of files under one prefix, committed by the job.

>>> to_dataset(ddf, "mpu://bucket/sales/", partition_on="country",
...            storage_options=so)                                    # doctest: +SKIP

Every partition's task writes its files (``part.{i}.parquet``, ``.csv`` or ``.jsonl``; under
``col=value/`` directories with ``partition_on``, as Dask names them) as multipart uploads it
does not complete (:mod:`.pending`). The client completes them once every task has succeeded,
then writes ``_metadata`` if asked and ``_SUCCESS`` last (:mod:`.job_commit`), as Hadoop
S3A's committers do: a reader never sees half a dataset, a failed or interrupted job leaves
nothing, and a retried or killed task leaves no duplicate, since names are deterministic and
the job aborts every upload under the prefix that it did not commit. The one assumption: no
other job writes under the same prefix meanwhile (its uploads would be aborted too).
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from typing_extensions import Unpack

from .._plan.sizing import S3_LIMITS, MiB, counted, parse_size
from ..errors import ConfigurationError, ObjectExists, add_note
from ..formats.record import Format
from ..formats.registry import format_named, names_a_file
from ..fs import filesystem
from ..model import SCHEMES, ObjectRef
from .cluster import distributed_client
from .job_commit import JobCommitter
from .frame_job import format_options, frame_job, try_on_meta
from .keywords import DatasetOptions
from .pending import (DatasetSpec, JobStopped, PendingFile, StopSignal, TaskFailed,
                      write_partition, write_partition_settled)

log = logging.getLogger(__name__)

__all__ = ["to_dataset", "DatasetResult", "plan"]

#: to_dataset's own parameters, for "did you mean" on a misspelt option
_NAMED = ("format", "partition_on", "overwrite", "write_metadata_file", "retries", "part_size",
          "row_group_size", "compression", "encoding", "storage_options")


@dataclass(frozen=True)
class DatasetResult:
    """What a dataset job committed."""

    url: str               #: the dataset's prefix, ending with "/"
    files: int
    rows: int
    bytes: int             #: of the data files
    seconds: float
    keys: tuple[str, ...]  #: the data files' keys, in partition order


def to_dataset(ddf: Any, url: str, *, format: str = "parquet",
               partition_on: str | Sequence[str] | None = None,
               storage_options: Mapping[str, Any] | None = None, overwrite: bool = False,
               write_metadata_file: bool = False, retries: int | None = None,
               part_size: int | str = 8 * MiB, row_group_size: int | str | None = None,
               compression: str | None = "auto", encoding: str = "utf-8",
               **options: Unpack[DatasetOptions]) -> DatasetResult:
    """Write ``ddf`` as a dataset of files under the prefix ``url``, all or nothing.

    ``format``: ``"parquet"`` (one schema for every file, from the frame's meta or
    ``schema=``; ``row_group_size`` as in :func:`~mpu_toolkit.write_parquet`), ``"csv"`` or
    ``"jsonl"``. ``partition_on``: columns whose values name ``col=value/`` directories.
    ``compression``: Parquet's codec (default snappy), or ``"gzip"`` / ``"zstd"`` for text
    (default none). ``options``: ``pq.ParquetWriter`` keywords, ``schema`` and
    ``preserve_index`` (default: the index is a column, as Dask writes it) for Parquet,
    ``to_csv`` / ``to_json`` keywords for text, and writer
    options for every file (``metadata``, ``storage_class`` ...). A prefix that holds
    objects is refused unless ``overwrite=True``: the previous objects that are not rewritten
    are then deleted before ``_SUCCESS`` is written. ``write_metadata_file``: Parquet's
    ``_metadata`` (every row group's footer). ``retries``: per task, on a distributed client.

    Runs on the active ``distributed.Client`` if there is one, else on Dask's default
    scheduler. If any task fails, or the call is interrupted, every upload of the job is
    aborted, nothing is published, and the exception's notes say so.
    """
    started = time.monotonic()
    root, spec = plan(ddf, url, storage_options=storage_options, format=format,
                      partition_on=partition_on, part_size=part_size,
                      row_group_size=row_group_size, compression=compression,
                      encoding=encoding, write_metadata_file=write_metadata_file, **options)
    committer = JobCommitter(filesystem(storage_options), root,
                             writer_options=spec.writer_options)
    before = committer.survey()
    if before.objects and not overwrite:
        shown = ", ".join(sorted(before.objects)[:3])
        raise ObjectExists(f"{committer.url} already holds "
                           f"{counted(len(before.objects), 'object')} ({shown} ...): pass "
                           "overwrite=True to replace that dataset, or choose another prefix",
                           bucket=root.bucket, key=root.key)
    files: list[PendingFile] = []
    try:
        _run_tasks(ddf, spec, StopSignal(uuid.uuid4().hex), retries, files.extend)
        files.sort(key=lambda f: (f.partition, f.name))
        extra = {"_metadata": _summary(format, files)} if write_metadata_file else {}
    except BaseException as error:
        add_note(error, committer.abort(files, before))
        raise
    rows, size = sum(f.rows for f in files), sum(f.size for f in files)
    committer.commit(files, before, extra, {
        "url": committer.url, "format": format, "partition_on": list(spec.partition_on),
        "rows": rows, "bytes": size,
        "files": [{"name": f.name, "rows": f.rows, "bytes": f.size} for f in files]})
    return DatasetResult(committer.url, len(files), rows, size, time.monotonic() - started,
                         tuple(f.handle.key for f in files))


def plan(ddf: Any, url: str, *, storage_options: Mapping[str, Any] | None = None,
         format: str = "parquet", partition_on: str | Sequence[str] | None = None,
         part_size: int | str = 8 * MiB, row_group_size: int | str | None = None,
         compression: str | None = "auto", encoding: str = "utf-8",
         write_metadata_file: bool = False,
         **options: Unpack[DatasetOptions]) -> tuple[ObjectRef, DatasetSpec]:
    """The dataset's root and the tasks' spec; every argument is checked here, and the
    encoder tried on the frame's (empty) meta, so that bad input fails before any upload."""
    if not (hasattr(ddf, "to_delayed") and hasattr(ddf, "_meta")):
        raise TypeError(f"to_dataset takes a Dask DataFrame, not {type(ddf).__name__}: "
                        "e.g. dask.dataframe.from_pandas(df, npartitions=8)")
    root = _root(url, storage_options)
    keys = _partition_columns(ddf, partition_on)
    size = S3_LIMITS.check_part_size(parse_size(part_size, "part_size"))
    fmt = format_named(format)
    _refuse_unfit(fmt, row_group_size=row_group_size is not None,
                  write_metadata_file=write_metadata_file)
    given: dict[str, Any] = dict(options)
    if row_group_size is not None:
        given["row_group_size"] = row_group_size
    own, writer_options = format_options(fmt, given, "to_dataset", _NAMED)
    data = ddf.drop(columns=list(keys)) if keys else ddf  # the files hold the other columns
    file_encoding = fmt.files(frame_job(
        data, own, compression="infer" if compression == "auto" else compression,
        encoding=encoding, footers=write_metadata_file))
    # refused here, not on every worker (over the storage options' writer options)
    filesystem(storage_options).write_options.updated(**writer_options)
    try_on_meta(lambda meta: file_encoding.encode(meta, io.BytesIO()), data._meta, fmt,
                "to_dataset")
    return root, DatasetSpec(root.url, file_encoding, fmt.extensions[0] + file_encoding.suffix,
                             keys, size, dict(storage_options or {}), writer_options)


def _refuse_unfit(format: Format, **given: bool) -> None:
    """Refuse to_dataset's parameters that ``format`` has no use for."""
    fits = {"row_group_size": "row_group_size" in format.options,
            "write_metadata_file": format.summary is not None}
    unfit = [name for name, wanted in given.items() if wanted and not fits[name]]
    if unfit:
        raise ConfigurationError(f"format={format.name!r} takes no {' and no '.join(unfit)}: "
                                 f"leave {'it' if len(unfit) == 1 else 'them'} out")


def _summary(format: str, files: Sequence[PendingFile]) -> bytes:
    """The dataset's ``_metadata``, from every file's footer (files in partition order)."""
    summary = format_named(format).summary
    assert summary is not None  # plan() refused write_metadata_file otherwise
    return summary([(f.name, f.footer) for f in files])


def _root(url: str, storage_options: Mapping[str, Any] | None) -> ObjectRef:
    bucket, key, _ = filesystem(storage_options).split_path(url)
    key = key.rstrip("/")
    if not bucket or not key:
        raise ConfigurationError(f"{url!r}: give the dataset a prefix, e.g. "
                                 f"'mpu://{bucket or 'bucket'}/dataset/': to_dataset never "
                                 "writes at the root of a bucket")
    if names_a_file(key):
        raise ConfigurationError(f"{url!r} names one file, but to_dataset writes a directory "
                                 "of files (part.0.parquet ...): give a prefix such as "
                                 f"'mpu://{bucket}/{key.rsplit('.', 1)[0]}/'; for ONE object "
                                 f"from every partition use to_single_object(ddf, {url!r})")
    scheme = url.partition("://")[0].lower() if "://" in url else "mpu"
    return ObjectRef(bucket, key, scheme=scheme if scheme in SCHEMES else "mpu")


def _partition_columns(ddf: Any, partition_on: str | Sequence[str] | None) -> tuple[str, ...]:
    keys = (partition_on,) if isinstance(partition_on, str) else tuple(partition_on or ())
    columns = list(ddf.columns)
    missing = [k for k in keys if k not in columns]
    if missing:
        raise ConfigurationError(f"partition_on: no column {missing} in the frame (its "
                                 f"columns: {columns}): name columns it has")
    if keys and len(set(keys)) >= len(columns):
        raise ConfigurationError("partition_on names every column: the files would hold no "
                                 "data; leave at least one column out of it")
    return keys


def _run_tasks(ddf: Any, spec: DatasetSpec, stop: StopSignal, retries: int | None,
               collect: Callable[[list[PendingFile]], None]) -> None:
    """Every partition's task, on the active distributed client or Dask's default scheduler;
    ``collect`` receives each task's files. The first task failure is raised once no task
    runs any more, so that none starts an upload after the client's abort."""
    import dask

    client = distributed_client()
    if client is None:
        if retries:
            log.warning("retries=%d: Dask's local schedulers do not retry tasks; start a "
                        "distributed.Client for that", retries)
        _run_locally([dask.delayed(write_partition_settled, pure=False)(p, i, spec, stop)
                      for i, p in enumerate(ddf.to_delayed())], stop, collect)
        return
    futures = client.compute([dask.delayed(write_partition, pure=False)(p, i, spec, stop)
                              for i, p in enumerate(ddf.to_delayed())], retries=retries or 0)
    waiting = set(futures)
    try:
        failure = _settle(waiting, collect)
        if failure is not None:
            _stop(client, waiting, stop)
            while waiting:  # the running tasks end at their next part
                _settle(waiting, collect)
    except BaseException as interrupt:
        _stop(client, waiting, stop)
        try:
            while waiting:
                _settle(waiting, collect)
        except BaseException:
            client.cancel(list(waiting))
            add_note(interrupt, "interrupted again: stopped waiting for the tasks still "
                                "running; remove what they upload later with "
                                f"mpu_toolkit.uploads.abort({spec.url + '/'!r}, force=True)")
            raise
        stop.clear(client)
        raise
    stop.clear(client)
    if failure is not None:
        raise failure


def _settle(waiting: set[Any], collect: Callable[[list[PendingFile]], None]
            ) -> BaseException | None:
    """Collect the files of the futures in ``waiting`` as they finish, until the first
    failure (returned; the others stay in ``waiting``) or the last."""
    from distributed import as_completed

    for future in as_completed(list(waiting)):
        waiting.discard(future)
        try:
            collect(future.result())
        except Exception as error:  # the task's (KilledWorker, a cancelled future ...)
            return error
        finally:
            future.release()
    return None


def _stop(client: Any, waiting: set[Any], stop: StopSignal) -> None:
    """Tell every worker that the job failed, then cancel the tasks not running yet (their
    partitions' computation too): one that starts now fails before any upload. The running
    ones stay in ``waiting``: their uploads are aborted by them, or with their results."""
    stop.set(client)
    running = {key for keys in client.processing().values() for key in keys}
    idle = [future for future in waiting if future.key not in running]
    client.cancel(idle)
    waiting.difference_update(idle)


def _run_locally(tasks: list[Any], stop: StopSignal,
                 collect: Callable[[list[PendingFile]], None]) -> None:
    """The tasks return their failures (:class:`TaskFailed`), so ``dask.compute`` returns
    once all have ended; it raises only for an interrupt, or for a failure before a task
    (computing its partition), when other tasks may still run: those are told to stop."""
    import dask

    try:
        outcomes = dask.compute(*tasks)
    except BaseException as error:
        stop.set()
        add_note(error, "tasks still running stop at their next part and abort their own "
                        "uploads")
        raise
    stop.clear()
    for outcome in outcomes:
        if not isinstance(outcome, TaskFailed):
            collect(outcome)
    failures = [o.error for o in outcomes if isinstance(o, TaskFailed)]
    if failures:  # the first that is not another task's JobStopped
        raise min(failures, key=lambda e: isinstance(e, JobStopped))
