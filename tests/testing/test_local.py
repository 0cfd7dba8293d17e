"""LocalS3: where its bytes go, and what it says when its server cannot start."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import boto3
import pytest

from mpu_toolkit import EndpointUnreachable
from mpu_toolkit.testing import spool
from mpu_toolkit.testing.local import LocalS3


def files_open_in(pid: int, folder: Path) -> list[str]:
    links = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            links.append(os.readlink(fd))
        except OSError:
            continue
    return [link for link in links if link.startswith(str(folder))]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/fd")
def test_large_objects_go_to_the_spool_folder_and_it_is_removed(tmp_path):
    with LocalS3(spool_in=tmp_path) as s3:
        assert s3.spool is not None and s3.spool.parent == tmp_path
        so = s3.storage_options
        client = boto3.client("s3", endpoint_url=so["endpoint_url"], region_name="us-east-1",
                              aws_access_key_id=so["key"], aws_secret_access_key=so["secret"])
        client.create_bucket(Bucket="spooled")
        client.put_object(Bucket="spooled", Key="small", Body=bytes(spool.IN_MEMORY_UP_TO))
        assert [f for f in files_open_in(s3.pid, s3.spool) if "server.log" not in f] == []
        client.put_object(Bucket="spooled", Key="large", Body=bytes(3 << 20))
        assert len([f for f in files_open_in(s3.pid, s3.spool) if "server.log" not in f]) == 1
        folder = s3.spool
    assert not folder.exists() and list(tmp_path.iterdir()) == []


def test_a_server_that_cannot_start_says_why(tmp_path, monkeypatch):
    broken = tmp_path / "werkzeug"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('werkzeug-is-broken-here')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with pytest.raises(EndpointUnreachable, match="werkzeug-is-broken-here"):
        LocalS3(startup_timeout=60).start()


def test_where_the_bytes_go_is_said_in_one_line(tmp_path):
    line = spool.describe(tmp_path, tmpfs_hint="use another disk")
    assert f"up to 1 MiB in memory, larger ones on disk in {tmp_path}" in line
    assert ("tmpfs" in line) == (spool._filesystem(tmp_path) == "tmpfs")
    if Path("/dev/shm").is_dir() and sys.platform.startswith("linux"):
        assert spool._filesystem(Path("/dev/shm")) == "tmpfs"
        assert "/dev/shm" in (shm := spool.describe(Path("/dev/shm"), tmpfs_hint="use a disk"))
        assert shm.endswith("that folder is a tmpfs, in memory too: use a disk")
