"""One encoded file (Parquet, CSV, JSONL) streamed into one multipart upload, all or nothing.

:class:`FrameUpload` opens the :class:`~mpu_toolkit.MultipartWriter`, hands the
encoder a file (:class:`Valve`) to write into, counts rows for progress and the result, and
on any exception — the producer's, the encoder's, or an upload's — aborts: no object, no
parts left. Encoders such as pyarrow's ``ParquetWriter`` and ``CompressedOutputStream``
write their footer or trailer when they are garbage-collected; the valve is shut first, so
those late bytes never reach the aborted upload.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from ..errors import ConfigurationError
from ..fs import filesystem
from .._plan.sizing import counted
from ..options import WriteOptions, closest
from ..progress import ProgressCallback, ProgressEvent, make_progress
from .._engine.writer import MultipartWriter

log = logging.getLogger(__name__)

__all__ = ["FrameWriteResult", "FrameUpload", "Valve", "split_options"]


@dataclass(frozen=True)
class FrameWriteResult:
    """What a frame write published."""

    url: str
    rows: int
    row_groups: int | None  #: Parquet only
    bytes: int              #: size of the object
    parts: int              #: 1 for an object small enough for a single PUT
    etag: str
    seconds: float


class Valve:
    """The file an encoder writes into: forwards to the upload until :meth:`shut`.

    Its ``close()`` does nothing: the upload's outcome is decided by :class:`FrameUpload`,
    not by an encoder closing its sink.
    """

    def __init__(self, target: Any) -> None:
        self._target: Any = target
        self._position = 0

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        if self._target is not None:
            self._target.write(data)
        self._position += size
        return size

    def shut(self) -> None:
        """Drop every later write (an encoder's footer after a failure)."""
        self._target = None

    def tell(self) -> int:
        return self._position

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    @property
    def closed(self) -> bool:
        return False


class FrameUpload:
    """Context manager: ``with FrameUpload(url, ...) as up: encode into up.file``.

    The encoder must finish (write its footer) inside the block; leaving it cleanly
    completes the upload and sets :attr:`result`, an exception aborts it.
    """

    def __init__(self, url: str, *, storage_options: Mapping[str, Any] | None,
                 progress: bool | ProgressCallback | None,
                 writer_options: Mapping[str, Any]) -> None:
        self.rows = 0
        self.row_groups: int | None = None
        self.result: FrameWriteResult | None = None
        self._started = time.monotonic()
        fs = filesystem(storage_options)
        bar = make_progress(progress, url, None)
        self._writer: MultipartWriter = fs.open_writer(
            url, **writer_options, progress=self._with_rows(bar) if bar else None)
        self.file = Valve(self._writer)

    def _with_rows(self, callback: ProgressCallback) -> ProgressCallback:
        def forward(event: ProgressEvent) -> None:
            callback(replace(event, rows=self.rows))

        return forward

    def taking(self, chunks: Iterable[Any]) -> Iterator[Any]:
        """``chunks`` (DataFrames, Tables, RecordBatches), each counted in :attr:`rows` as it is
        taken, and shown by the progress display at once: rows move while a Parquet row group
        is still being filled, not only once it is written."""
        for chunk in chunks:
            self.rows += len(chunk)
            self._writer.report()
            yield chunk

    def add_row_group(self) -> None:
        self.row_groups = (self.row_groups or 0) + 1

    def __enter__(self) -> "FrameUpload":
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            self.file.shut()
            log.warning("%s: %r while writing frames: aborting the upload", self._writer.url,
                        exc)
            self._writer.__exit__(exc_type, exc, tb)
            return
        self._writer.close()
        info = self._writer.result
        assert info is not None
        self.result = FrameWriteResult(
            url=self._writer.url, rows=self.rows, row_groups=self.row_groups,
            bytes=info.size or 0,
            parts=max(len(self._writer.parts), 1), etag=info.etag,
            seconds=time.monotonic() - self._started)
        log.info("%s: %s, %s in %s", self._writer.url, counted(self.rows, "row"),
                 counted(info.size or 0, "byte"), counted(self.result.parts, "part"))


_WRITER_OPTIONS = frozenset(f.name for f in fields(WriteOptions)) - {"progress", "limits"} | {
    "block_size", "acl"}  # fsspec's names, accepted by WriteOptions.from_kwargs


def split_options(options: Mapping[str, Any], encoder: Collection[str],
                  what: str, named: Collection[str] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    """``options`` split into the encoder's keywords and the upload's (:class:`WriteOptions`
    fields and S3 request parameters, which the writer validates). A name that is neither is
    refused here, with a suggestion among those and ``named`` (the caller's own parameters)."""
    ours, upload = {}, {}
    for name, value in options.items():
        if name in encoder:
            ours[name] = value
        elif name in _WRITER_OPTIONS or name[:1].isupper():
            upload[name] = value
        else:
            close = closest(name, set(encoder) | _WRITER_OPTIONS | set(named))
            raise ConfigurationError(
                f"{what}: unknown option {name!r}" + (f"; did you mean {close!r}?" if close
                                                      else f"; {what} takes {sorted(encoder)} "
                                                      "and the writer options of open_writer"))
    return ours, upload
