"""The task side of :func:`~mpu_toolkit.to_dataset`: a partition written as files whose
multipart uploads are filled but not completed.

Each file streams through a :class:`PartSink`: encoded bytes are buffered until a part's
worth, then uploaded; what is left at the end is the last part, which S3 lets be smaller
than 5 MiB (a small file is one such part). The upload starts with the first part, so an
encoder that fails early leaves nothing. The task returns one :class:`PendingFile` per file
(the :class:`~mpu_toolkit.UploadHandle`, its parts, rows, bytes and, for Parquet's
``_metadata``, the footer); the format's :class:`~mpu_toolkit.formats.record.FileEncoding`
writes the bytes; the client completes them all or aborts them all
(:mod:`.job_commit`). A task that fails aborts its own uploads; one that learns the job has
failed (:class:`StopSignal`) stops at its next part and does the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterator, Mapping, Sequence, cast

import pandas as pd

from ..api import start_upload
from ..errors import ConfigurationError, MPUError, add_note
from ..formats.frameupload import Valve
from ..formats.record import FileEncoding
from ..handle import PartsInFlight, UploadHandle
from ..model import PartInfo

log = logging.getLogger(__name__)

#: parts of one file travelling while the encoder fills the next
_PARTS_IN_FLIGHT = 4

__all__ = ["DatasetSpec", "PendingFile", "PartSink", "StopSignal", "JobStopped", "TaskFailed",
           "write_partition", "write_partition_settled"]

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  #: the directory of a null value, as Dask names it


class JobStopped(MPUError):
    """Another task of the job failed: this one stopped and aborted its uploads."""


@dataclass(frozen=True)
class DatasetSpec:
    """What every task needs: where the dataset goes, how files are encoded and uploaded."""

    url: str                          #: scheme://bucket/prefix, without a trailing slash
    encoding: FileEncoding
    extension: str                    #: the files' name ending: ".parquet", ".csv.gz" ...
    partition_on: tuple[str, ...]
    part_size: int
    storage_options: Mapping[str, Any]
    writer_options: Mapping[str, Any]  #: start_upload options (content_type, metadata ...)


@dataclass(frozen=True)
class PendingFile:
    """One file of the dataset, uploaded as parts, waiting for the client's Complete."""

    handle: UploadHandle
    parts: tuple[PartInfo, ...]
    name: str           #: relative to the dataset: "part.3.parquet", "city=Oslo/part.3.parquet"
    partition: int
    rows: int
    size: int
    footer: Any = None  #: pyarrow FileMetaData (Parquet, when ``_metadata`` is written)


@dataclass(frozen=True)
class TaskFailed:
    """A task's exception as its result: a scheduler without retries then waits for every
    task to end before the client aborts, so no task starts an upload after the abort."""

    error: BaseException


_STOPPED: set[str] = set()  # the failed jobs this process was told of


def _mark(job: str) -> None:
    _STOPPED.add(job)


def _unmark(job: str) -> None:
    _STOPPED.discard(job)


@dataclass(frozen=True)
class StopSignal:
    """Tells a job's tasks that it failed, so they stop early. Checked in the task's process
    without a request: :meth:`set` marks the job in the client's process and, given a
    distributed client, in every worker's (``client.run``)."""

    job: str

    def check(self) -> None:
        if self.job in _STOPPED:
            raise JobStopped(f"job {self.job}: another task failed; this one stopped")

    def set(self, client: Any = None) -> None:
        _mark(self.job)
        if client is not None:
            try:
                client.run(_mark, self.job)
            except Exception as exc:  # only an accelerator: the client waits for every task
                log.warning("could not tell the workers that job %s failed: %s", self.job, exc)

    def clear(self, client: Any = None) -> None:
        """Forget the job (once no task of it runs), where :meth:`set` marked it."""
        if self.job not in _STOPPED:
            return
        _unmark(self.job)
        if client is not None:
            try:
                client.run(_unmark, self.job)
            except Exception as exc:
                log.debug("could not clear job %s on the workers: %s", self.job, exc)


class PartSink:
    """The bytes of one file, uploaded as parts of ``part_size`` as they come, a few at a
    time in the background while the encoder goes on; the upload is started with the first
    part. Holds at most ``_PARTS_IN_FLIGHT`` parts plus the one being filled."""

    def __init__(self, url: str, spec: DatasetSpec, stop: StopSignal) -> None:
        self.url = url
        self.handle: UploadHandle | None = None
        self.parts: list[PartInfo] = []
        self.size = 0
        self._spec = spec
        self._stop = stop
        self._buffer = bytearray()
        self._sending: PartsInFlight | None = None
        self._sent = 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        size = len(view)
        self.size += size
        while len(view):
            room = self._spec.part_size - len(self._buffer)
            self._buffer += view[:room]
            view = view[room:]
            if len(self._buffer) == self._spec.part_size:
                self._send()
        return size

    def finish(self) -> tuple[UploadHandle, list[PartInfo]]:
        """Upload the rest as the last part (an empty file is one empty part)."""
        if self._buffer or not self._sent:
            self._send()
        assert self.handle is not None and self._sending is not None
        self.parts = self._sending.finish()
        return self.handle, self.parts

    def abort(self) -> str | None:
        """Abort the upload, if it started; what happened (None if nothing was started)."""
        self._buffer = bytearray()
        if self._sending is not None:
            self._sending.abort()
        return self.handle.abort() if self.handle is not None else None

    def _send(self) -> None:
        self._stop.check()
        if self._sending is None:
            self.handle = start_upload(self.url, storage_options=self._spec.storage_options,
                                       **self._spec.writer_options)
            self._sending = PartsInFlight(self.handle, _PARTS_IN_FLIGHT)
        self._sent += 1
        self._sending.put_part(self._sent, self._buffer)  # not touched again: a new one follows
        self._buffer = bytearray()


def write_partition(frame: pd.DataFrame, index: int, spec: DatasetSpec,
                    stop: StopSignal) -> list[PendingFile]:
    """On a worker: partition ``index`` as pending files (one per ``partition_on`` group).
    On any exception every upload it started is aborted before the exception propagates."""
    files: list[PendingFile] = []
    try:
        for name, group in _files_of(frame, index, spec.partition_on, spec.extension):
            stop.check()
            files.append(_write_file(name, group, index, spec, stop))
        stop.check()
        return files
    except BaseException as error:
        for file in files:
            _abort_quietly(file.handle, error)
        raise


def _write_file(name: str, frame: pd.DataFrame, index: int, spec: DatasetSpec,
                stop: StopSignal) -> PendingFile:
    sink = PartSink(f"{spec.url}/{name}", spec, stop)
    valve = Valve(sink)
    try:
        footer = spec.encoding.encode(frame, cast(BinaryIO, valve))
        handle, parts = sink.finish()
    except BaseException as error:
        valve.shut()  # an encoder's late footer (at garbage collection) goes nowhere
        _abort_quietly(sink, error)
        raise
    return PendingFile(handle, tuple(parts), name, index, len(frame), sink.size, footer)


def write_partition_settled(frame: pd.DataFrame, index: int, spec: DatasetSpec,
                            stop: StopSignal) -> list[PendingFile] | TaskFailed:
    """:func:`write_partition` for schedulers without retries: a failure is returned (see
    :class:`TaskFailed`) and stops the job's other tasks in this process."""
    try:
        return write_partition(frame, index, spec, stop)
    except Exception as error:
        stop.set()
        return TaskFailed(error)


def _abort_quietly(upload: UploadHandle | PartSink, error: BaseException) -> None:
    try:
        note = upload.abort()
    except Exception as exc:  # the client's sweep of the prefix is the second chance
        log.warning("%s: aborting after %r failed: %s", upload.url, error, exc)
        return
    if note:
        add_note(error, note)


def _files_of(frame: pd.DataFrame, index: int, partition_on: Sequence[str],
              extension: str) -> Iterator[tuple[str, pd.DataFrame]]:
    """``(name, rows)`` of each file: ``part.{index}{ext}``, under hive directories
    ``col=value/`` per group of ``partition_on`` (which leave the files, as in Dask)."""
    name = f"part.{index}{extension}"
    if not partition_on:
        yield name, frame
        return
    keys = list(partition_on)
    groups = frame.drop(columns=keys).groupby([frame[k] for k in keys], dropna=False,
                                              observed=True, sort=True)
    for values, group in groups:
        values = values if isinstance(values, tuple) else (values,)
        directories = [_directory(k, v) for k, v in zip(keys, values, strict=True)]
        yield "/".join([*directories, name]), group


def _directory(column: str, value: Any) -> str:
    text = NULL_PARTITION if pd.isna(value) else str(value)
    if "/" in text or not text:
        raise ConfigurationError(f"partition_on={column!r}: the value {text!r} cannot name a "
                                 "directory; map it to another value first")
    return f"{column}={text}"
