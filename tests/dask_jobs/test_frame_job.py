"""A Dask frame described to a format: its meta, a sample of its first partition, the
format's keywords told from the writer's, and the encoder tried before any upload."""

from __future__ import annotations

import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")

from mpu_toolkit import ConfigurationError, SchemaMismatchError  # noqa: E402
from mpu_toolkit.dask.frame_job import format_options, frame_job, try_on_meta  # noqa: E402
from mpu_toolkit.formats.registry import format_named  # noqa: E402


def test_the_job_carries_the_meta_and_samples_the_first_partition():
    df = pd.DataFrame({"id": range(30), "name": [f"n{i}" for i in range(30)]})
    ddf = dd.from_pandas(df, npartitions=3)
    job = frame_job(ddf, {"sep": ";"}, compression="gzip", encoding="latin-1", url="x.csv")
    assert len(job.meta) == 0 and list(job.meta.columns) == ["id", "name"]
    assert job.options == {"sep": ";"} and (job.compression, job.encoding) == ("gzip", "latin-1")
    sample = job.sample()
    assert list(sample["id"]) == list(range(10))  # the first partition, not the frame


def test_options_are_split_by_the_record_and_the_content_type_defaults_to_its():
    csv = format_named("csv")
    own, writer = format_options(csv, {"sep": ";", "part_size": "8MiB"}, "f", ())
    assert own == {"sep": ";"}
    assert writer == {"part_size": "8MiB", "content_type": "text/csv"}
    _, given = format_options(csv, {"content_type": "text/plain"}, "f", ())
    assert given == {"content_type": "text/plain"}
    with pytest.raises(ConfigurationError, match="did you mean 'sep'"):
        format_options(csv, {"sepp": ";"}, "f", ())


def test_an_encoder_failing_on_the_meta_is_a_configuration_error_naming_the_format():
    def bad(meta: pd.DataFrame) -> None:
        raise TypeError("sep must be a 1-character string")

    def mismatch(meta: pd.DataFrame) -> None:
        raise SchemaMismatchError("partition 0: column 'a'")

    with pytest.raises(ConfigurationError, match="to_x: the frame cannot be written as csv "
                                                 "with these options: sep must"):
        try_on_meta(bad, pd.DataFrame(), format_named("csv"), "to_x")
    with pytest.raises(SchemaMismatchError):  # the package's own errors pass as they are
        try_on_meta(mismatch, pd.DataFrame(), format_named("csv"), "to_x")
