"""Pipeline tools that know only ``s3://``: the opt-in switch to mpu_toolkit's filesystem.

Each case runs in a child process, with and without ``MPU_TOOLKIT_S3=1`` and never with an
import of mpu_toolkit in the child (the variable must work in processes you do not control),
against the session's server. The proof that the safe writer is the one used: a producer
that fails inside ``with`` publishes nothing (s3fs commits the partial object).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from helpers import object_exists

QUIET = {"KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}


#: ends each child once its work is done and printed, without the interpreter's teardown:
#: pyarrow's thread pool can abort that teardown after a Parquet read ("terminate called
#: without an active exception", SIGABRT; apache/arrow#34314, open), now and then, whoever
#: wrote the file. These tests are about where the bytes go; an error before this line still
#: fails them (a traceback, exit code 1).
END = "\nimport os as _os, sys as _sys\n_sys.stdout.flush(); _sys.stderr.flush(); _os._exit(0)\n"


def run(code: str, so: dict, switch: bool) -> str:
    env = {k: v for k, v in os.environ.items() if k != "MPU_TOOLKIT_S3"}
    env.update(QUIET, **({"MPU_TOOLKIT_S3": "1"} if switch else {}))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code) + END, json.dumps(so)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


FAILING_WRITE = """
    import json, sys, fsspec
    so = json.loads(sys.argv[1]); url = sys.argv[2] if len(sys.argv) > 2 else None
    print(fsspec.get_filesystem_class("s3").__module__)
    try:
        with fsspec.open("s3://{bucket}/{key}", "wb", **so) as f:
            f.write(b"half of it")
            raise RuntimeError("the producer failed")
    except RuntimeError:
        pass
"""


@pytest.mark.parametrize("switch", [False, True])
def test_s3_urls_are_s3fs_unless_the_variable_is_set(switch, storage_options, boto, bucket,
                                                     key):
    out = run(FAILING_WRITE.format(bucket=bucket, key=key), storage_options, switch)
    assert out.split()[0] == ("mpu_toolkit.fs" if switch else "s3fs.core")
    # s3fs commits the partial object; mpu_toolkit's writer aborts it
    assert object_exists(boto, bucket, key) is not switch


def test_register_s3_in_this_process_only(storage_options, bucket, key, boto):
    out = run(f"""
        import json, sys, fsspec, pandas as pd
        import mpu_toolkit
        so = json.loads(sys.argv[1])
        before = fsspec.get_filesystem_class("s3").__module__
        mpu_toolkit.register_s3()
        df = pd.DataFrame({{"a": range(5)}})
        df.to_parquet("s3://{bucket}/{key}.parquet", storage_options=so)
        same = pd.read_parquet("s3a://{bucket}/{key}.parquet", storage_options=so).equals(df)
        print(before, fsspec.get_filesystem_class("s3").__module__, same)
    """, storage_options, switch=False)
    assert out.split() == ["s3fs.core", "mpu_toolkit.fs", "True"]


def test_kedro_parquet_dataset_saves_through_the_safe_writer(storage_options, bucket, key,
                                                             boto):
    pytest.importorskip("kedro_datasets")
    out = run(f"""
        import json, sys
        import pandas as pd
        from kedro.io.core import Version
        from kedro_datasets.pandas import ParquetDataset
        so = json.loads(sys.argv[1])
        credentials = {{"key": so["key"], "secret": so["secret"],
                       "client_kwargs": {{"endpoint_url": so["endpoint_url"]}}}}
        df = pd.DataFrame({{"a": range(10), "b": list("abcdefghij")}})
        plain = ParquetDataset(filepath="s3://{bucket}/{key}/plain.parquet",
                               credentials=credentials)
        plain.save(df)
        versioned = ParquetDataset(filepath="s3://{bucket}/{key}/df.parquet",
                                   credentials=credentials, version=Version(None, None))
        versioned.save(df)
        print(type(plain._fs).__module__, plain.load().equals(df), versioned.load().equals(df))
    """, storage_options, switch=True)
    assert out.split() == ["mpu_toolkit.fs", "True", "True"]


def test_universal_pathlib_writes_through_the_safe_writer(storage_options, bucket, key, boto):
    pytest.importorskip("upath")
    out = run(f"""
        import json, sys
        from upath import UPath
        so = json.loads(sys.argv[1])
        path = UPath("s3://{bucket}/{key}/note.txt", **so)
        path.write_text("hello")
        print(type(path.fs).__module__, path.read_text())
        try:
            with path.with_name("failed.txt").open("wb") as f:
                f.write(b"half")
                raise RuntimeError("the producer failed")
        except RuntimeError:
            pass
    """, storage_options, switch=True)
    assert out.split() == ["mpu_toolkit.fs", "hello"]
    assert not object_exists(boto, bucket, f"{key}/failed.txt")
