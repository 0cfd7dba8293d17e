"""fsspec's abstract filesystem tests (``fsspec.tests.abstract``) on ``mpu://``.

The copy, get, put, pipe and open suites, run as s3fs runs them (s3fs/tests/derived), against
the session's server (moto, or RGW when MPU_TEST_* say so), in a bucket of this module's own.
fsspec's ``tests/abstract/mv.py`` holds only tests of the local filesystem: nothing to derive.
"""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import fsspec.tests.abstract as abstract
import pytest

from mpu_toolkit.fs import MPUFileSystem


@pytest.fixture(scope="module")
def conformance_bucket(storage_options: dict[str, Any]) -> Iterator[str]:
    """A bucket for this module (per xdist worker): the suites write ``source``/``target``
    at its top. ``mkdir`` creates it; mpu://'s ``makedirs`` never creates buckets."""
    fs = MPUFileSystem(**storage_options)
    name = f"mpu-conformance-{uuid.uuid4().hex[:10]}"
    fs.mkdir(name)
    yield name
    fs.rm(name, recursive=True)  # the keys, then the bucket


class MPUFixtures(abstract.AbstractFixtures):
    """The fixtures fsspec's abstract tests need, for ``mpu://``."""

    @pytest.fixture
    def fs(self, storage_options: dict[str, Any],
           conformance_bucket: str) -> MPUFileSystem:
        fs = MPUFileSystem(**storage_options)
        fs.invalidate_cache()
        return fs

    @pytest.fixture
    def fs_path(self, conformance_bucket: str) -> str:
        return conformance_bucket

    @pytest.fixture
    def supports_empty_directories(self) -> bool:
        return False  # S3 has keys, not directories


class TestMPUCopy(abstract.AbstractCopyTests, MPUFixtures):
    pass


class TestMPUGet(abstract.AbstractGetTests, MPUFixtures):
    pass


class TestMPUPut(abstract.AbstractPutTests, MPUFixtures):
    pass


class TestMPUPipe(abstract.AbstractPipeTests, MPUFixtures):
    pass


class TestMPUOpen(abstract.AbstractOpenTests, MPUFixtures):
    pass
