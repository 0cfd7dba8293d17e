"""What every benchmark here shares: the server options (and the size parser)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from importlib import metadata
from typing import Any


def parse_size(text: str) -> int:
    from mpu_toolkit._plan.sizing import parse_size as parse

    return parse(text)


SINK_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                           "shared", "tools", "s3_sink_server.py")


def add_server_args(p: argparse.ArgumentParser) -> None:
    """--endpoint/--key/--secret/--server-name/--region, defaulting to the MPU_TEST_* variables
    that `eval "$(bash .ci/rgw.sh start)"` exports; no endpoint means the embedded moto.
    --sink starts the null-sink server instead (a cloud-like link with rtt= and mbps=)."""
    p.add_argument("--sink", default=None, metavar="SETTINGS",
                   help="use ../shared/tools/s3_sink_server.py, started here, with comma-"
                        "separated settings: rtt=MS, mbps=MB/s per connection, md5 (real MD5 "
                        "ETags), strict (S3's part rules); e.g. --sink rtt=20,mbps=50,md5; "
                        "'null' for none")
    p.add_argument("--endpoint", default=os.environ.get("MPU_TEST_ENDPOINT"),
                   help="S3 endpoint URL (default $MPU_TEST_ENDPOINT, else embedded moto)")
    p.add_argument("--key", default=os.environ.get("MPU_TEST_KEY"))
    p.add_argument("--secret", default=os.environ.get("MPU_TEST_SECRET"))
    p.add_argument("--server-name", default=os.environ.get("MPU_TEST_SERVER"),
                   help="name for the report (default: moto, or $MPU_TEST_SERVER)")
    p.add_argument("--region", default="us-east-1")


def resolve_endpoint(args: argparse.Namespace) -> tuple[str, str, str, str, object | None]:
    """(endpoint, key, secret, server name, the embedded server to stop or None)."""
    if getattr(args, "sink", None):
        sink = SinkServer(args.sink).start()
        # MPU_TEST_SERVER names the RGW/moto of the environment, not this sink
        named = args.server_name if args.server_name != os.environ.get("MPU_TEST_SERVER") else None
        return sink.endpoint, "sink-key", "sink-secret", named or sink.name, sink
    if args.endpoint:
        if not (args.key and args.secret):
            raise SystemExit("--endpoint needs --key and --secret "
                             "(or MPU_TEST_KEY/MPU_TEST_SECRET)")
        return args.endpoint, args.key, args.secret, args.server_name or "external", None
    from mpu_toolkit.testing.local import LocalS3

    local = LocalS3().start()
    so = local.storage_options
    return so["endpoint_url"], so["key"], so["secret"], args.server_name or "moto", local


class SinkServer:
    """The null-sink S3 server of ../shared/tools, in a child process, on 127.0.0.1."""

    FLAGS = {"md5": "--md5-etags", "strict": "--strict-limits"}
    VALUES = {"rtt": "--rtt-ms", "mbps": "--conn-mbps"}

    def __init__(self, settings: str, script: str = SINK_SCRIPT) -> None:
        self.argv = [sys.executable, os.path.abspath(script)]
        names = []
        for item in (x.strip() for x in settings.split(",") if x.strip() not in ("", "null")):
            name, _, value = item.partition("=")
            if name in self.FLAGS and not value:
                self.argv.append(self.FLAGS[name])
            elif name in self.VALUES and value:
                self.argv += [self.VALUES[name], value]
            else:
                raise SystemExit(f"--sink: unknown setting {item!r}; use rtt=MS, mbps=MB/s, "
                                 "md5, strict (or 'null')")
            names.append(f"{name}{value and '=' + value}")
        self.name = "sink" + (f"({','.join(names)})" if names else "(null)")
        self.endpoint = ""
        self._process: Any = None

    def start(self) -> "SinkServer":
        import subprocess
        import tempfile
        import time

        port_file = os.path.join(tempfile.mkdtemp(prefix="mpu-sink-"), "port")
        self._process = subprocess.Popen([*self.argv, "--port-file", port_file],
                                         stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the sink server did not start: {' '.join(self.argv)}")
            time.sleep(0.05)
        with open(port_file) as f:
            self.endpoint = f"http://127.0.0.1:{f.read().strip()}"
        return self

    def stats(self) -> dict[str, Any]:
        """The sink's counters: requests by operation, bytes in, its own CPU seconds."""
        import json
        import urllib.request

        with urllib.request.urlopen(f"{self.endpoint}/_sink/stats", timeout=10) as answer:
            return dict(json.load(answer))

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)


def environment(dists: tuple[str, ...]) -> dict[str, Any]:
    """Python, platform, cores, load and the versions of ``dists``, for the report."""
    versions: dict[str, str | None] = {}
    for dist in ("mpu_toolkit", *dists):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "cpus": os.cpu_count(), "loadavg": os.getloadavg(), "versions": versions}


def describe_environment(env: dict[str, Any]) -> str:
    """The header every benchmark prints: Python, CPUs, load, library versions."""
    load = " ".join(f"{x:.2f}" for x in env["loadavg"])
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
    return (f"python {env['python']} on {env['cpus']} CPU(s), load average {load} "
            f"(shared machine: figures as measured)\nversions: {versions}")


def settle(result: dict[str, Any], check: Any, cleanup: Any, pause: float) -> dict[str, Any]:
    """After a timed run: verify an ok result with ``check()`` (a problem string, or None;
    a failing check marks it FAILED, so a broken result cannot report a fast time), remove
    its objects with ``cleanup()`` (what was left, if anything), then rest ``pause`` s."""
    if result["status"] == "ok":
        try:
            problem = check()
        except Exception as exc:  # noqa: BLE001 - reported in the table, not raised
            problem = f"check failed: {type(exc).__name__}: {exc}"
        if problem:
            result.update(status="FAILED", error=problem)
    left = cleanup()
    if left:
        result["cleanup"] = left
    if pause:
        import time

        time.sleep(pause)
    return result
