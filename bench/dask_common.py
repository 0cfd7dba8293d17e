"""What both Dask benchmarks (dask_bench.py: CSV, dask_parquet_bench.py: Parquet) share: the
data, generated identically on the workers and in the client process, warming a worker, and
the environment recorded with the results. Both import it, and not each other (dask_bench.py
hands ``dask_bench.py parquet`` over to dask_parquet_bench.py).
"""

from __future__ import annotations

from typing import Any

from bench_common import environment as common_environment

CATEGORIES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")


# -- the data (identical on the workers and here) -------------------------------------------
def make_partition(i: int, start: int, n: int) -> Any:
    """Partition ``i``: rows ``start .. start+n-1``, deterministic (default_rng(seed=i))."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed=i)
    cats = np.array(CATEGORIES, dtype=object)
    t0 = np.datetime64("2024-01-01T00:00:00", "ms")
    return pd.DataFrame({
        "id": rng.integers(0, 10 ** 12, n, dtype=np.int64),
        "value": rng.normal(100.0, 25.0, n),
        "category": cats[rng.integers(0, len(cats), n)],
        "ts": t0 + rng.integers(0, 366 * 86400 * 1000, n).astype("timedelta64[ms]"),
    }, index=pd.RangeIndex(start, start + n))


def partition_bounds(rows: int, pieces: int) -> list[tuple[int, int, int]]:
    """(seed, start, rows) per partition, as even as integers allow."""
    edges = [rows * i // pieces for i in range(pieces + 1)]
    return [(i, edges[i], edges[i + 1] - edges[i]) for i in range(pieces)]


def dask_frame(bounds: list[tuple[int, int, int]]) -> Any:
    import dask.dataframe as dd

    seeds, starts, counts = zip(*bounds)
    return dd.from_map(make_partition, list(seeds), list(starts), list(counts),
                       meta=make_partition(0, 0, 0), enforce_metadata=False)


def pandas_frame(bounds: list[tuple[int, int, int]]) -> Any:
    import pandas as pd

    return pd.concat([make_partition(*b) for b in bounds])


def warm_worker(so: dict[str, Any]) -> str:
    """Import what the tasks use and connect the (fsspec-cached) MPUFileSystem, untimed."""
    import pandas as pd

    import mpu_toolkit.dask.single_object  # noqa: F401
    from mpu_toolkit import MPUFileSystem

    MPUFileSystem(**so).connect()
    pd.DataFrame({"a": [1.5], "t": [pd.Timestamp(0)]}).to_csv()
    return "ok"


def environment() -> dict[str, Any]:
    return common_environment(("dask", "distributed", "pandas", "numpy", "pyarrow", "s3fs",
                               "fsspec", "aiobotocore", "botocore", "moto"))
