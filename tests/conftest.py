"""Session fixtures: one real S3 server over HTTP on 127.0.0.1 for the whole run.

Default: moto's server, started here in a child process. To run the same suite against
another server (CI does this with Ceph RGW), set MPU_TEST_ENDPOINT, MPU_TEST_KEY,
MPU_TEST_SECRET and MPU_TEST_SERVER (a name used for server-specific expectations).
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config

from mpu_toolkit.testing.faults import FaultProxy
from helpers import Mpu

from mpu_toolkit.fs import MPUFileSystem
from mpu_toolkit.testing.local import LocalS3


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mpu_toolkit")
    group.addoption("--storm-runs", type=int, default=24, metavar="N",
                    help="Ctrl-C storm (tests/faults/test_interrupt_storm.py): N interrupts at "
                         "random moments across the blocking entry points and the CLI, a "
                         "third of them of write_jsonl (default 24, CI-sized)")
    group.addoption("--storm-seed", type=int, default=None, metavar="SEED",
                    help="the storm's random moments from SEED (default: a new seed per "
                         "run, printed when a run fails)")


@dataclass
class Server:
    """The S3 server under test and how to reach it."""

    name: str  # "moto", "rgw", or what MPU_TEST_SERVER says
    storage_options: dict[str, Any] = field(default_factory=dict)

    @property
    def endpoint_url(self) -> str:
        return str(self.storage_options["endpoint_url"])

    @property
    def is_moto(self) -> bool:
        return self.name == "moto"

    @property
    def is_rgw(self) -> bool:
        return self.name == "rgw"


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    endpoint = os.environ.get("MPU_TEST_ENDPOINT")
    if endpoint:
        host = re.sub(r"^https?://", "", endpoint).split(":")[0]
        assert host in ("127.0.0.1", "localhost", "[::1]"), "tests only talk to loopback servers"
        yield Server(os.environ.get("MPU_TEST_SERVER", "external"),
                     {"endpoint_url": endpoint, "key": os.environ["MPU_TEST_KEY"],
                      "secret": os.environ["MPU_TEST_SECRET"]})
        return
    with LocalS3() as local:
        yield Server("moto", local.storage_options)


@pytest.fixture(scope="session")
def storage_options(server: Server) -> dict[str, Any]:
    return dict(server.storage_options)


@pytest.fixture(scope="session")
def boto(server: Server) -> Any:
    """An independent boto3 client to check server state (not the code under test)."""
    so = server.storage_options
    return boto3.client(
        "s3", endpoint_url=so["endpoint_url"], aws_access_key_id=so["key"],
        aws_secret_access_key=so["secret"], region_name="us-east-1",
        config=Config(request_checksum_calculation="when_required",
                      response_checksum_validation="when_required",
                      retries={"total_max_attempts": 2}))


@pytest.fixture(scope="session")
def bucket(boto: Any) -> Iterator[str]:
    name = f"mpu-test-{uuid.uuid4().hex[:10]}"
    boto.create_bucket(Bucket=name)
    yield name
    _empty_bucket(boto, name)
    boto.delete_bucket(Bucket=name)


def _empty_bucket(boto: Any, name: str) -> None:
    for upload in boto.list_multipart_uploads(Bucket=name).get("Uploads", []):
        boto.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in boto.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            boto.delete_object(Bucket=name, Key=obj["Key"])


@pytest.fixture
def key(request: pytest.FixtureRequest) -> str:
    """A key no other test uses."""
    return f"{re.sub(r'[^A-Za-z0-9_.-]', '-', request.node.name)[:80]}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def fs(storage_options: dict[str, Any]) -> MPUFileSystem:
    return MPUFileSystem(**storage_options)


@pytest.fixture
def proxy(server: Server) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the server (see faultproxy.py)."""
    p = FaultProxy(server.endpoint_url).start()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def mpu(storage_options: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Mpu:
    """The `mpu` command against the session's server (see helpers.Mpu)."""
    return Mpu(storage_options, str(tmp_path_factory.mktemp("aws-home")))
