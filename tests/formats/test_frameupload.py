"""FrameUpload: the rows a frame write shows are counted as the producer's frames are taken."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from mpu_toolkit import write_csv, write_jsonl, write_parquet


@pytest.mark.parametrize("writer, suffix, options", [
    (write_parquet, ".parquet", {"row_group_size": 1_000_000}),
    (write_csv, ".csv.gz", {}), (write_jsonl, ".jsonl", {})])
def test_rows_show_as_frames_are_taken_before_anything_is_encoded_out(
        bucket, key, storage_options, writer, suffix, options):
    events, seen = [], []

    def frames():
        for n in range(3):
            yield pd.DataFrame({"i": range(n * 1000, (n + 1) * 1000)})
            time.sleep(0.15)  # past the display's throttle (an event per 0.1 s at most)
        # the producer pauses: 3,000 rows taken, far from a row group (or a MiB of text)
        seen.append(events[-1] if events else None)
        yield pd.DataFrame({"i": range(3000, 3500)})

    result = writer(frames(), f"mpu://{bucket}/{key}{suffix}", storage_options=storage_options,
                    progress=events.append, **options)
    assert seen[0] is not None and seen[0].rows == 3000 and seen[0].state == "writing"
    assert seen[0].bytes_uploaded == 0
    assert result.rows == 3500 and events[-1].rows == 3500 and events[-1].state == "completed"
    if writer is write_parquet:
        assert result.row_groups == 1
