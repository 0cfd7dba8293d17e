"""One object from every partition of a Dask DataFrame, uploaded by the workers themselves.

The client starts one multipart upload and ships its :class:`~mpu_toolkit.UploadHandle` and
the format's :class:`~mpu_toolkit.formats.record.PieceEncoder` with each partition's task. A
task encodes its partition as a self-contained piece (CSV / JSON Lines as pandas writes them;
a Parquet body), uploads all but its first 5 MiB as parts numbered from its partition's own range
(:mod:`~mpu_toolkit._plan.assembly`), and returns the rest. The client joins what comes back
in partition order into the remaining parts, appends the encoder's trailer, completes — and
aborts instead if any task failed. A retried task re-sends the same part numbers, which
replaces them: retries are harmless.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Iterator, Mapping

from typing_extensions import Unpack

from .._plan.assembly import Assembler, layout_piece
from .._plan.sizing import S3_LIMITS, MiB, parse_size
from ..errors import ConfigurationError, add_note
from ..api import start_upload
from ..fs import filesystem
from ..formats.compression import Compression
from ..formats.frameupload import FrameWriteResult
from ..formats.offthread import off_main_thread
from ..formats.record import PieceEncoder
from ..formats.registry import format_named, format_of
from ..handle import PartsInFlight, UploadHandle
from ..model import PartInfo
from .cluster import distributed_client
from .frame_job import format_options, frame_job, try_on_meta
from .keywords import SingleObjectOptions

log = logging.getLogger(__name__)

__all__ = ["to_single_object"]

#: parts the client joins from the pieces' heads, travelling while it waits for the next
#: piece: memory ~ this many parts (each 5 MiB .. part_size)
_CLIENT_PARTS_IN_FLIGHT = 2
#: to_single_object's own parameters, for "did you mean" on a misspelt option
_NAMED = ("storage_options", "compression", "encoding", "format", "part_size")


def to_single_object(ddf: Any, url: str, *, storage_options: Mapping[str, Any] | None = None,
                     compression: Compression = "infer", encoding: str = "utf-8",
                     format: str | None = None, part_size: int | str = 8 * MiB,
                     **options: Unpack[SingleObjectOptions]) -> FrameWriteResult:
    """Write every partition of ``ddf``, in order, as ONE object at ``url``.

    ``format``: ``"parquet"``, ``"csv"`` or ``"jsonl"`` (default: from the extension, e.g.
    ``.parquet``, ``.csv.gz``, ``.jsonl``). ``options``: for Parquet, ``schema``,
    ``row_group_size`` (rows, or Arrow bytes such as ``"128MiB"``, per partition),
    ``preserve_index`` (default: the index is a column, as Dask writes it) and
    ``pq.ParquetWriter`` keywords, ``compression`` being the Parquet codec ("infer":
    snappy); for text, ``to_csv`` / ``to_json`` keywords. Writer options (``metadata``,
    ``content_type``, ``checksum`` ...) for both. Runs on the active ``distributed.Client``
    if there is one, else on Dask's default scheduler. Text is byte-identical to pandas
    writing the concatenated frame (per-partition gzip members or zstd frames aside);
    Parquet is one file whose footer lists every partition's row groups. If any partition
    fails (a :class:`~mpu_toolkit.SchemaMismatchError` names it), or the call is
    interrupted, the upload is aborted and the exception's notes say so.
    """
    started = time.monotonic()
    size = parse_size(part_size, "part_size")
    pieces = ddf.npartitions
    if pieces + 1 > S3_LIMITS.max_parts:  # the encoder's trailer is one more piece
        raise ConfigurationError(
            f"{pieces:,} partitions: one object is assembled from at most "
            f"{S3_LIMITS.max_parts - 1:,} (S3 numbers at most {S3_LIMITS.max_parts:,} parts, "
            "one is the closing piece); repartition to fewer, larger partitions first, e.g. "
            "ddf.repartition(partition_size='256MiB')")
    assembler = Assembler(pieces + 1, size)
    encoder, writer_options = _encoder(ddf, url, format, compression, encoding, options)
    _refuse_equal_parts(storage_options, writer_options)
    handle = start_upload(url, storage_options=storage_options, **writer_options)
    rows, metas = 0, []
    sending = PartsInFlight(handle, _CLIENT_PARTS_IN_FLIGHT)  # while the next piece comes
    try:
        tasks = [_piece_task(p, i, pieces + 1, handle, encoder, size)
                 for i, p in enumerate(ddf.to_delayed())]
        for index, (kept, uploaded, count, meta) in enumerate(_in_order(tasks)):
            rows += count
            metas.append(meta)
            sending.put_parts(list(assembler.add(index, kept, uploaded)))
        sending.put_parts(list(assembler.add(pieces, encoder.trailer(metas), [])))
        sending.put_parts(list(assembler.finish()))
        sent = sending.finish()
        info = handle.complete(assembler.parts + sent)
    except BaseException as error:
        sending.abort()
        add_note(error, handle.abort())
        raise
    parts = len(assembler.parts) + len(sent)
    return FrameWriteResult(handle.url, rows, encoder.row_groups(metas), info.size or 0, parts,
                            info.etag, time.monotonic() - started)


def _refuse_equal_parts(storage_options: Mapping[str, Any] | None,
                        writer_options: Mapping[str, Any]) -> None:
    """Partitions make parts of many sizes (each uploads its own): a store that needs all
    parts but the last of one size (Cloudflare R2) would refuse them at Complete, after
    every byte was sent. Refused before the first request."""
    fs = filesystem(storage_options)
    if writer_options.get("part_size_policy", fs.write_options.part_size_policy) == "equal":
        raise ConfigurationError(
            f"to_single_object assembles parts of many sizes, and {fs.provider.title} needs "
            "all parts but the last of one size (part_size_policy='equal'): write the "
            "partitions as one stream instead, e.g. mpu_toolkit.write_csv((ddf.get_partition("
            "i).compute() for i in range(ddf.npartitions)), url) (or write_jsonl, "
            "write_parquet), or as files with to_dataset")


def _encoder(ddf: Any, url: str, format: str | None, compression: Compression,
             encoding: str, options: Mapping[str, Any]) -> tuple[PieceEncoder, dict[str, Any]]:
    """The encoder of ``url``'s format (or ``format``'s), tried on the frame's meta, and the
    options that are the writer's."""
    if "partition_on" in options:
        raise ConfigurationError(
            "partition_on: to_single_object writes ONE object, which cannot be partitioned; "
            "for a directory of files per value use to_dataset(ddf, 'mpu://bucket/prefix/', "
            "partition_on=[...])")
    fmt = format_named(format) if format is not None else format_of(url)
    own, writer_options = format_options(fmt, options, "to_single_object", _NAMED)
    encoder = fmt.pieces(frame_job(ddf, own, compression=compression, encoding=encoding,
                                    url=url))
    try_on_meta(lambda meta: encoder.encode(meta, 0), ddf._meta, fmt, "to_single_object")
    return encoder, writer_options


def _piece_task(partition: Any, index: int, pieces: int, handle: UploadHandle,
                encoder: PieceEncoder, part_size: int) -> Any:
    import dask

    return dask.delayed(upload_piece, pure=False)(partition, index, pieces, handle, encoder,
                                                  part_size)


def upload_piece(df: Any, index: int, pieces: int, handle: UploadHandle, encoder: PieceEncoder,
                 part_size: int) -> tuple[bytes, list[PartInfo], int, Any]:
    """On a worker: encode one partition, upload what it can, return the rest. (On Dask's
    synchronous scheduler the worker is the caller's thread: the encoder runs off it.)"""
    piece = off_main_thread(encoder.encode, df, index)
    layout = layout_piece(index, pieces, len(piece.data), part_size)
    view = memoryview(piece.data)
    uploaded = handle.upload_parts([(n, view[a:b + 1]) for n, a, b in layout.parts])
    return bytes(view[:layout.kept]), uploaded, piece.rows, piece.meta


def _in_order(tasks: list[Any], batch: int = 16) -> Iterator[Any]:
    """Task results in task order, holding few at a time: futures on a distributed client
    (released as they are used; the rest cancelled on failure), else batches."""
    client = distributed_client()
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
