"""What every benchmark here shares: the server options, the size parser, the environment of
the report and the quiet-machine guard (a run that starts loaded is refused, or marked)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from typing import Any, Callable


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


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux), else what ``platform`` says."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(dists: tuple[str, ...]) -> dict[str, Any]:
    """Date (UTC), Python, platform, CPU model and cores, load and the versions of ``dists``."""
    versions: dict[str, str | None] = {}
    for dist in ("mpu_toolkit", *dists):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {"date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "python": sys.version.split()[0], "platform": platform.platform(),
            "cpu_model": cpu_model(), "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
            "versions": versions}


def describe_environment(env: dict[str, Any]) -> str:
    """The header every benchmark prints: date, Python, CPU, load, library versions."""
    load = " ".join(f"{x:.2f}" for x in env["loadavg"])
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
    return (f"{env.get('date_utc', '')}: python {env['python']} on {env['cpus']} x "
            f"{env.get('cpu_model', '?')}, load average {load}\nversions: {versions}")


# -- the quiet-machine guard ------------------------------------------------------------------
#: a run whose 1-minute load average at the start is above this is not a quiet run (the
#: project's machine has 2 cores: 1.0 is one of them busy with something else)
QUIET_LOAD = 1.0
LOADED_EXIT = 3  #: the exit code of a benchmark that refused to run on a loaded machine


@dataclass(frozen=True)
class LoadCheck:
    """The 1-minute load average when the run started, against the threshold."""

    start: float
    threshold: float
    waited_s: float = 0.0

    @property
    def quiet(self) -> bool:
        return self.start <= self.threshold

    @property
    def mark(self) -> str:
        """What every figure of a loaded run carries ("" for a quiet one)."""
        return "" if self.quiet else f"LOADED (load {self.start:.2f} at start)"

    def summary(self, load_end: float) -> str:
        """One line for a report's header: load at start and end, quiet or LOADED."""
        verdict = ("quiet" if self.quiet else f"{self.mark}: figures not comparable")
        return (f"load average (1 min) at start {self.start:.2f}, at end {load_end:.2f} "
                f"(quiet <= {self.threshold:g}): {verdict}")


def report_header(env: dict[str, Any], check: LoadCheck, load_end: float) -> str:
    """What a results table starts with: date (UTC), CPU, load at start and end, versions."""
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
    return (f"{env['date_utc']}, {env['cpus']} x {env['cpu_model']}, python {env['python']}; "
            f"{check.summary(load_end)}\nversions: {versions}")


def add_load_args(p: argparse.ArgumentParser) -> None:
    """--wait-quiet, --allow-loaded, --max-load: see :func:`wait_for_quiet`."""
    p.add_argument("--wait-quiet", type=float, default=120, metavar="SECONDS",
                   help="wait up to SECONDS for the 1-minute load average to fall to "
                        "--max-load before starting (default 120)")
    p.add_argument("--allow-loaded", action="store_true",
                   help="run anyway on a loaded machine, every figure marked LOADED "
                        f"(otherwise: exit code {LOADED_EXIT})")
    p.add_argument("--max-load", type=float, default=QUIET_LOAD,
                   help=f"the quiet threshold (default {QUIET_LOAD:g}: this 2-core machine)")


def wait_for_quiet(wait_s: float, allow_loaded: bool, threshold: float = QUIET_LOAD, *,
                   loadavg: Callable[[], float] = lambda: os.getloadavg()[0],
                   sleep: Callable[[float], None] = time.sleep,
                   clock: Callable[[], float] = time.monotonic,
                   poll_s: float = 5.0) -> LoadCheck:
    """Wait up to ``wait_s`` seconds for the 1-minute load average to fall to ``threshold``.
    Still above it: exit with :data:`LOADED_EXIT` and a message saying why, or, with
    ``allow_loaded``, return the check whose :attr:`~LoadCheck.mark` the figures carry."""
    began = clock()
    load = loadavg()
    if load > threshold and wait_s > 0:
        print(f"load average {load:.2f} > {threshold:g}: waiting up to {wait_s:.0f} s for a "
              "quiet machine", flush=True)
    while load > threshold and clock() - began < wait_s:
        sleep(min(poll_s, max(0.0, wait_s - (clock() - began))))
        load = loadavg()
    check = LoadCheck(load, threshold, clock() - began)
    if not check.quiet and not allow_loaded:
        print(f"refusing to record: the 1-minute load average is {load:.2f} (> {threshold:g} "
              f"after waiting {check.waited_s:.0f} s); figures taken now would not be "
              "comparable. Retry on a quiet machine, wait longer (--wait-quiet SECONDS), or "
              "run with --allow-loaded to get figures marked LOADED.", file=sys.stderr)
        raise SystemExit(LOADED_EXIT)
    return check


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
