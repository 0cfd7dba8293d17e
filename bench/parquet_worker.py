"""One measured Parquet write in a fresh process: ``python parquet_worker.py SPEC RESULT``.

The parent (parquet_bench.py) starts one per way of writing, so CPU seconds and peak RSS
belong to that run alone (sampled as in bench_worker.py, whose helpers are reused). The
measured window is the whole job: frames generated on the fly, converted, encoded and
uploaded (``s3fs-frame`` first builds the whole frame, as ``df.to_parquet`` needs it).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback
from typing import Any, Callable, Iterator

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_worker import MiB, RssSampler, _cpu  # noqa: E402
from bench_writers import BOTO_CHECKSUMS_OFF, _boto3_client, _pyarrow_prepare  # noqa: E402

CHUNK_ROWS = 200_000


class FrameSource:
    """Mixed-type DataFrames (ints, floats, timestamps, strings) of about ``size`` in-memory
    bytes in total, made on the fly: only the chunk being handed over exists."""

    def __init__(self, size: int, seed: int = 1) -> None:
        import numpy as np
        import pyarrow as pa

        self._rng = np.random.default_rng(seed)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        self._words = pa.array(["".join(self._rng.choice(letters, self._rng.integers(4, 28)))
                                for _ in range(50_000)])
        self._countries = pa.array(["FR", "DE", "US", "JP", "BR", "IN", "NG", "CN"])
        width = pa.Table.from_pandas(self._chunk(0, 10_000)).nbytes / 10_000
        self.rows = int(size / width)

    def _chunk(self, start: int, rows: int) -> Any:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        rng, ids = self._rng, np.arange(start, start + rows, dtype=np.int64)
        return pa.table({
            "id": ids, "qty": rng.integers(0, 1000, rows, dtype=np.int32),
            "price": rng.random(rows) * 100, "score": rng.random(rows, dtype=np.float32),
            "ts": pa.array(np.datetime64("2024-01-01", "ns") + ids * np.timedelta64(1_000_003,
                                                                                     "ns")),
            "name": pc.take(self._words, rng.integers(0, len(self._words), rows)),
            "country": pc.take(self._countries, rng.integers(0, 8, rows)),
        }).to_pandas()

    def frames(self) -> Iterator[Any]:
        for start in range(0, self.rows, CHUNK_ROWS):
            yield self._chunk(start, min(CHUNK_ROWS, self.rows - start))

    def tables(self) -> Iterator[Any]:
        import pyarrow as pa

        for df in self.frames():
            yield pa.Table.from_pandas(df, preserve_index=False)


def _so(spec: dict[str, Any]) -> dict[str, Any]:
    return {"endpoint_url": spec["endpoint"], "key": spec["key"], "secret": spec["secret"]}


def _stream_tables(source: FrameSource, sink: Any, compression: str) -> None:
    """What users write by hand: one ``write_table`` per chunk (pyarrow's row groups)."""
    import pyarrow.parquet as pq

    tables = source.tables()
    first = next(tables)
    with pq.ParquetWriter(sink, first.schema, compression=compression) as writer:
        writer.write_table(first)
        for table in tables:
            writer.write_table(table)


def run_generate(spec: dict[str, Any], source: FrameSource) -> dict[str, Any]:
    for _ in source.frames():
        pass
    return {}


def run_floor(spec: dict[str, Any], source: FrameSource) -> dict[str, Any]:
    import pyarrow as pa

    from mpu_toolkit import stream_parquet

    sink = pa.MockOutputStream()  # counts bytes, stores none
    stream_parquet(source.frames(), sink, compression=spec["compression"],
                   preserve_index=False)
    return {"object_bytes": sink.size()}


def run_mpu(spec: dict[str, Any], source: FrameSource) -> dict[str, Any]:
    from mpu_toolkit import write_parquet

    result = write_parquet(source.frames(), f"mpu://{spec['bucket']}/{spec['object_key']}",
                           storage_options=_so(spec), compression=spec["compression"],
                           preserve_index=False)
    return {"row_groups": result.row_groups, "parts": result.parts}


def run_s3fs_frame(spec: dict[str, Any], source: FrameSource) -> dict[str, Any]:
    import pandas as pd

    frame = pd.concat(source.frames(), ignore_index=True)
    frame.to_parquet(f"s3://{spec['bucket']}/{spec['object_key']}", index=False,
                     compression=spec["compression"],
                     storage_options={**_so(spec), "config_kwargs": dict(BOTO_CHECKSUMS_OFF)})
    return {}


def run_pyarrow(spec: dict[str, Any], source: FrameSource) -> dict[str, Any]:
    fs = spec["_state"]
    with fs.open_output_stream(f"{spec['bucket']}/{spec['object_key']}") as out:
        _stream_tables(source, out, spec["compression"])
    return {}


def run_boto3(spec: dict[str, Any], source: FrameSource) -> dict[str, Any]:
    import pyarrow as pa

    buffer = pa.BufferOutputStream()
    _stream_tables(source, buffer, spec["compression"])
    spec["_state"].upload_fileobj(pa.BufferReader(buffer.getvalue()), spec["bucket"],
                                  spec["object_key"])
    return {}


def _prepare_mpu(spec: dict[str, Any]) -> Any:
    from mpu_toolkit import MPUFileSystem

    return MPUFileSystem(**_so(spec)).connect()  # cached: write_parquet reuses the client


RUNS: dict[str, tuple[Callable[..., dict[str, Any]], Callable[[dict[str, Any]], Any]]] = {
    "generate": (run_generate, lambda spec: None),
    "encode-only": (run_floor, lambda spec: None),
    "mpu": (run_mpu, _prepare_mpu),
    "s3fs-frame": (run_s3fs_frame, lambda spec: None),
    "pyarrow": (run_pyarrow, _pyarrow_prepare),
    "boto3-buffer": (run_boto3, _boto3_client),
}


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    run, prepare = RUNS[spec["run"]]
    spec["_state"] = prepare(spec)  # imports and clients, outside the window
    source = FrameSource(int(spec["size"]))
    gc.collect()
    sampler = RssSampler()
    rss_before = sampler.rss()
    sampler.start()
    u0, s0 = _cpu()
    t0 = time.perf_counter()
    info = run(spec, source)
    elapsed = time.perf_counter() - t0
    u1, s1 = _cpu()
    peak = sampler.stop()
    return {"ok": True, "run": spec["run"], "size": spec["size"], "rows": source.rows,
            "elapsed_s": elapsed, "cpu_s": (u1 - u0) + (s1 - s0),
            "rss_growth_mib": (peak - rss_before) / MiB, "rss_peak_mib": peak / MiB, **info}


def main() -> int:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    try:
        result = measure(spec)
    except BaseException as exc:  # reported to the parent, never hangs
        result = {"ok": False, "run": spec.get("run"), "error": f"{type(exc).__name__}: "
                  f"{exc}"[:2000], "traceback": traceback.format_exc()[-4000:]}
    with open(sys.argv[2], "w") as f:
        json.dump(result, f)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # as bench_worker: skip teardown of pyarrow/aiohttp runtimes
