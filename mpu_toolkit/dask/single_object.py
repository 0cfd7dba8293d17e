"""One CSV / JSON Lines object from every partition of a Dask DataFrame, uploaded by the
workers themselves.

The client starts one multipart upload and ships its :class:`~mpu_toolkit.handle.UploadHandle`
with each partition's task. A task renders its partition as pandas would (``to_csv`` /
``to_json(orient="records", lines=True)``; the CSV header only in partition 0; each
partition compressed as a whole gzip member or zstd frame, which concatenate into a valid
file), uploads all but its first 5 MiB as parts numbered from its partition's own range
(:mod:`~mpu_toolkit.assembly`), and returns the rest. The client joins what comes back in
partition order into the remaining parts, completes, and aborts instead if any task failed.
A retried task re-sends the same part numbers, which replaces them: retries are harmless.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Iterator, Mapping

from .._plan.assembly import Assembler, layout_piece
from ..errors import ConfigurationError
from ..formats.frameupload import FrameWriteResult
from .._engine.blocking import add_note
from ..api import start_upload
from ..handle import UploadHandle
from ..model import PartInfo
from .._plan.sizing import MiB, parse_size
from ..formats.text import (CONTENT_TYPES, Compression, Render, codec_for, encode_chunk,
                          renderer, text_options)

log = logging.getLogger(__name__)

__all__ = ["to_single_object"]

_KINDS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


def to_single_object(ddf: Any, url: str, *, storage_options: Mapping[str, Any] | None = None,
                     compression: Compression = "infer", encoding: str = "utf-8",
                     format: str | None = None, part_size: int | str = 16 * MiB,
                     **options: Any) -> FrameWriteResult:
    """Write every partition of ``ddf``, in order, as ONE object at ``url``.

    ``format``: ``"csv"`` or ``"jsonl"`` (default: from the extension, e.g. ``.csv.gz``,
    ``.jsonl``). ``options``: ``to_csv`` / ``to_json`` keywords and writer options
    (``metadata``, ``content_type``, ``checksum`` ...). Runs on the active
    ``distributed.Client`` if there is one, else on Dask's default scheduler. The result is
    byte-identical to pandas writing the concatenated frame (per-partition gzip members
    or zstd frames aside); if any partition fails, the upload is aborted.
    """
    started = time.monotonic()
    kind = format or _kind_of(url)
    if kind not in ("csv", "jsonl"):
        raise ConfigurationError(f"format={kind!r}: use 'csv' or 'jsonl'")
    pandas_options, writer_options = text_options(kind, dict(options), "to_single_object")
    render = renderer(kind, pandas_options)
    codec = codec_for(compression, url)
    size = parse_size(part_size, "part_size")
    writer_options.setdefault("content_type", CONTENT_TYPES[kind])
    handle = start_upload(url, storage_options=storage_options, **writer_options)
    pieces = ddf.npartitions
    assembler = Assembler(pieces, size)
    rows, sent = 0, []
    try:
        tasks = [_piece_task(p, i, pieces, handle, render, codec, encoding, size)
                 for i, p in enumerate(ddf.to_delayed())]
        for index, (kept, uploaded, count) in enumerate(_in_order(tasks)):
            rows += count
            sent += handle.upload_parts(list(assembler.add(index, kept, uploaded)))
        sent += handle.upload_parts(list(assembler.finish()))
        info = handle.complete(assembler.parts + sent)
    except BaseException as error:
        add_note(error, handle.abort())
        raise
    parts = len(assembler.parts) + len(sent)
    return FrameWriteResult(handle.url, rows, None, info.size or 0, parts, info.etag,
                            time.monotonic() - started)


def _kind_of(url: str) -> str:
    name = url.rsplit("/", 1)[-1].lower()
    for suffix in (".gz", ".gzip", ".zst", ".zstd"):
        name = name.removesuffix(suffix)
    for ext, kind in _KINDS.items():
        if name.endswith(ext):
            return kind
    raise ConfigurationError(f"cannot tell the format of {url!r} from its extension: name it "
                             ".csv / .jsonl (optionally .gz / .zst), or pass format=")


def _piece_task(partition: Any, index: int, pieces: int, handle: UploadHandle,
                render: Render, codec: str | None, encoding: str, part_size: int) -> Any:
    import dask

    return dask.delayed(upload_piece, pure=False)(partition, index, pieces, handle, render,
                                                  codec, encoding, part_size)


def upload_piece(df: Any, index: int, pieces: int, handle: UploadHandle, render: Render,
                 codec: str | None, encoding: str, part_size: int
                 ) -> tuple[bytes, list[PartInfo], int]:
    """On a worker: render one partition, upload what it can, return the rest."""
    data = encode_chunk(df, render, index == 0, codec, encoding)
    layout = layout_piece(index, pieces, len(data), part_size)
    view = memoryview(data)
    uploaded = handle.upload_parts([(n, view[a:b + 1]) for n, a, b in layout.parts])
    return data[:layout.kept], uploaded, len(df)


def _in_order(tasks: list[Any], batch: int = 16) -> Iterator[Any]:
    """Task results in task order, holding few at a time: futures on a distributed client
    (released as they are used; the rest cancelled on failure), else batches."""
    client = _distributed_client()
    if client is None:
        import dask

        for start in range(0, len(tasks), batch):
            yield from dask.compute(*tasks[start:start + batch])
        return
    futures = client.compute(tasks)
    try:
        for future in futures:
            yield future.result()
            future.release()
    finally:
        client.cancel([f for f in futures if not f.done()])


def _distributed_client() -> Any:
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:  # no client is running
        return None
