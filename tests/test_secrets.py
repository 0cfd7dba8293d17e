"""Credentials never appear in reprs, logs (botocore's DEBUG log included), exceptions or
results. Widgets and the CLI have the same check in their own tests (test_widgets_browser.py,
and every `mpu` call in test_cli_*.py through helpers.Mpu)."""

from __future__ import annotations

import logging
import os
import traceback

import pandas as pd
import pytest
from helpers import proxied_fs

import mpu_toolkit
from mpu_toolkit import MPUError, MPUFileSystem, uploads, write_parquet
from mpu_toolkit._plan.sizing import MiB

PART = 5 * MiB
WRONG = "wrong-secret-5f3c9a"


def exception_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + " ".join(getattr(exc, "__notes__", []))


def test_no_credential_in_any_log_repr_result_or_error(storage_options, bucket, key, proxy,
                                                       caplog, tmp_path, server):
    secrets = [storage_options["key"], storage_options["secret"], WRONG]
    seen: list[str] = []
    caplog.set_level(logging.DEBUG)  # every logger: ours, s3fs, botocore, aiobotocore
    fs = MPUFileSystem(**storage_options, skip_instance_cache=True)
    writer = fs.open(f"{bucket}/{key}/a", "wb", part_size=PART)
    seen += [repr(fs), str(fs), repr(writer), repr(fs.write_options)]
    writer.write(os.urandom(PART + 10))
    writer.close()
    seen += [repr(writer), repr(writer.result)]
    seen.append(repr(mpu_toolkit.copy(f"{bucket}/{key}/a", f"{bucket}/{key}/b", fs=fs,
                                      copy_cutoff=0)))
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(2 * PART))
    seen.append(repr(mpu_toolkit.upload_file(path, f"{bucket}/{key}/c", fs=fs, part_size=PART)))
    seen.append(repr(write_parquet(pd.DataFrame({"a": range(10)}), f"{bucket}/{key}/d.parquet",
                                   storage_options=storage_options)))
    seen.append(uploads.list(f"mpu://{bucket}/{key}/", storage_options=storage_options)
                .to_string())

    errors: list[BaseException] = []
    proxy.fail("UploadPart", "503", times=10_000)  # a permanent failure, aborted
    with pytest.raises(MPUError) as failed:
        with proxied_fs(proxy, storage_options, max_attempts=2).open(
                f"{bucket}/{key}/e", "wb", part_size=PART) as f:
            f.write(os.urandom(2 * PART))
    errors.append(failed.value)
    if not server.is_moto:  # moto accepts any secret; elsewhere the server refuses it
        wrong = MPUFileSystem(**{**storage_options, "secret": WRONG}, skip_instance_cache=True)
        with pytest.raises(MPUError) as refused:
            with wrong.open(f"{bucket}/{key}/f", "wb") as f:
                f.write(b"x")
        errors.append(refused.value)
    seen += [exception_text(e) for e in errors]

    logs = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records)
    assert "Sending http request" in logs  # botocore's request log was captured...
    assert "Credential=<redacted>/" in logs  # ...with its Authorization header redacted
    blob = logs + "\n".join(seen)
    for secret in secrets:
        assert secret not in blob, f"a credential leaked: {secret[:3]}…"
