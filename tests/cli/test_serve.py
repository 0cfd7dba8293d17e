"""`mpu serve` as a user runs it: a subprocess of this interpreter (this copy of the package),
its startup lines, its server process killed, stop signals, a busy port, a cap on bytes."""

from __future__ import annotations

import ast
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import boto3
import pytest

import mpu_toolkit
from helpers import with_sigint
from mpu_toolkit import S3Error
from mpu_toolkit.testing.ports import free_port

ROOT = Path(mpu_toolkit.__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class Serve:
    """`python -m mpu_toolkit.cli serve --port N ...`, its output read as it comes."""

    def __init__(self, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(  # Ctrl-C (SIGINT) works even if the runner ignores it
            with_sigint([sys.executable, "-m", "mpu_toolkit.cli", "serve", "--port",
                         str(self.port), *args]),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
            env=env)
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, into in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=lambda s=stream, i=into: i.extend(s), daemon=True).start()
        self.server_pid: int | None = None

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    def ready(self, timeout: float = 60) -> "Serve":
        deadline = time.monotonic() + timeout
        while "stops it" not in self.stdout:
            assert self.process.poll() is None, f"mpu serve exited: {self.stderr}"
            assert time.monotonic() < deadline, f"not ready in {timeout}s: {self.stdout}"
            time.sleep(0.05)
        self.server_pid = int(re.search(r"moto, pid (\d+)", self.stdout).group(1))
        return self

    @property
    def storage_options(self) -> dict:
        return ast.literal_eval(re.search(r"so = (\{.*\})", self.stdout).group(1))

    def exit_code(self, within: float) -> int:
        code = self.process.wait(timeout=within)
        time.sleep(0.1)  # the reader threads take the last lines
        return code


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False if Path("/proc").exists() else _signalable(pid)


def _signalable(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def serve() -> Iterator[type[Serve]]:
    started: list[Serve] = []

    class Tracked(Serve):
        def __init__(self, *args: str, **kwargs: int) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

    yield Tracked
    for s in started:  # whatever a test left running: stopped as a user would, else killed
        if s.process.poll() is None:
            s.process.terminate()
            try:
                s.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                s.process.kill()
        if s.server_pid and running(s.server_pid):
            os.kill(s.server_pid, signal.SIGKILL)
        s.process.wait(timeout=30)


def test_startup_lines_say_where_bytes_are_kept_and_the_cap(serve, tmp_path):
    data = tmp_path / "data"
    s = serve("--data", str(data), "--max-bytes", "64MiB").ready()
    [spool] = re.findall(r"larger ones on disk in (\S+) \(deleted when it stops\)", s.stdout)
    assert Path(spool).parent == data and Path(spool).is_dir()
    assert "up to 1 MiB in memory" in s.stdout
    assert "cap: writes past 64 MiB held are refused (--max-bytes)" in s.stdout
    s.process.send_signal(signal.SIGINT)
    assert s.exit_code(within=30) == 0, s.stderr
    assert not Path(spool).exists()  # deleted when it stopped
    plain = serve().ready()
    assert "cap: none (--max-bytes SIZE" in plain.stdout
    [spool] = re.findall(r"on disk in (\S+) ", plain.stdout)
    assert Path(spool).is_dir() and not Path(spool).is_relative_to(tmp_path)


def test_a_killed_server_is_reported_with_its_likely_cause(serve):
    s = serve().ready()
    os.kill(s.server_pid, signal.SIGKILL)
    assert s.exit_code(within=15) == 1
    assert f"its S3 server (pid {s.server_pid}) was killed by SIGKILL" in s.stderr
    assert "out-of-memory killer" in s.stderr
    assert "--max-bytes" in s.stderr and "--data DIR" in s.stderr
    assert "Traceback" not in s.stderr


def test_a_server_that_exits_is_reported_with_its_code(serve):
    s = serve().ready()
    os.kill(s.server_pid, signal.SIGTERM)  # not from mpu serve: it ended by itself
    assert s.exit_code(within=15) == 1
    assert re.search(r"its S3 server \(pid \d+\) was killed by SIGTERM|exited with code",
                     s.stderr), s.stderr


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_stop_signals_stop_the_server_and_free_the_port(serve, stop):
    s = serve().ready()
    assert listening(s.port)
    s.process.send_signal(stop)
    assert s.exit_code(within=15) == 0, s.stderr
    assert f"stopped ({stop.name})" in s.stderr
    assert not running(s.server_pid) and not listening(s.port)
    again = serve(port=s.port).ready()  # the port is free for the next one
    assert again.storage_options["endpoint_url"] == f"http://127.0.0.1:{s.port}"


def test_the_server_exits_when_mpu_serve_is_killed(serve):
    s = serve().ready()
    s.process.kill()
    s.process.wait(timeout=15)
    deadline = time.monotonic() + 10
    while (running(s.server_pid) or listening(s.port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(s.server_pid) and not listening(s.port)


def test_a_port_in_use_names_its_holder_and_suggests_another(serve):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import socket, sys, time; s = socket.socket(); "
         "s.bind(('127.0.0.1', 0)); s.listen(); print(s.getsockname()[1], flush=True); "
         "time.sleep(120)  # port-holder-for-mpu-serve-test"],
        stdout=subprocess.PIPE, text=True)
    try:
        port = int(holder.stdout.readline())
        s = serve(port=port)
        assert s.exit_code(within=60) == 2
    finally:
        holder.kill()
        holder.wait()
    assert f"127.0.0.1:{port} is in use" in s.stderr and "--port" in s.stderr
    if sys.platform.startswith("linux"):  # /proc names it; elsewhere psutil may not be allowed
        assert f"by pid {holder.pid} (" in s.stderr and "port-holder-for-mpu-serve" in s.stderr


def test_writes_past_the_cap_fail_naming_it_and_leave_nothing(serve):
    s = serve("--max-bytes", "12MiB").ready()
    so = s.storage_options
    with pytest.raises(S3Error, match="EntityTooLarge") as refused:
        with mpu_toolkit.open_writer("mpu://bucket/big.bin", storage_options=so) as f:
            for _ in range(5):
                f.write(bytes(5 << 20))
    assert "cap of 12 MiB (mpu serve --max-bytes)" in str(refused.value)
    client = boto3.client("s3", endpoint_url=so["endpoint_url"], region_name="us-east-1",
                          aws_access_key_id=so["key"], aws_secret_access_key=so["secret"])
    assert client.list_multipart_uploads(Bucket="bucket").get("Uploads", []) == []
    assert client.list_objects_v2(Bucket="bucket")["KeyCount"] == 0  # nothing published
    with mpu_toolkit.open_writer("mpu://bucket/fits.bin", storage_options=so) as f:
        f.write(bytes(100))  # under the cap: written
    assert client.head_object(Bucket="bucket", Key="fits.bin")["ContentLength"] == 100


@pytest.mark.slow
def test_serve_prints_what_to_paste_serves_and_keeps_data_across_restarts(serve, tmp_path):
    port = free_port()

    def start() -> tuple[Serve, dict]:
        s = serve("--data", str(tmp_path / "data"), "--bucket", "kept", port=port).ready()
        return s, s.storage_options

    s, so = start()
    assert so["endpoint_url"] == f"http://127.0.0.1:{port}"
    mpu_toolkit.open_writer("mpu://kept/a/b.txt", storage_options=so,
                            metadata={"who": "me"}).close()
    with mpu_toolkit.open_writer("mpu://kept/a", storage_options=so) as f:
        f.write(b"a file and a folder of the same name")
    s.process.send_signal(signal.SIGINT)
    assert s.exit_code(within=60) == 0 and "saved 2 objects" in s.stderr
    s, so = start()  # the same port, a new server: the objects are back
    client = boto3.client("s3", endpoint_url=so["endpoint_url"], region_name="us-east-1",
                          aws_access_key_id=so["key"], aws_secret_access_key=so["secret"])
    assert client.get_object(Bucket="kept", Key="a")["Body"].read().startswith(b"a file")
    assert client.head_object(Bucket="kept", Key="a/b.txt")["Metadata"] == {"who": "me"}
    s.process.send_signal(signal.SIGTERM)  # saved as on Ctrl-C
    assert s.exit_code(within=60) == 0 and "saved 2 objects" in s.stderr
