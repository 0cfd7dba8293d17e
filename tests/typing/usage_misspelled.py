"""A misspelled writer option: mypy must report it (tests/test_typing.py). Never run."""

from __future__ import annotations

import pandas as pd

from mpu_toolkit import open_writer, write_parquet


def misspelled(frame: pd.DataFrame) -> None:
    with open_writer("mpu://bucket/big.bin", part_sise="16MiB") as writer:
        writer.write(b"bytes")
    write_parquet(frame, "mpu://bucket/t.parquet", concurency=4)
    write_parquet(frame, "mpu://bucket/t.parquet", checksum="crc32-c")
