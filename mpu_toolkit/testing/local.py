"""A local S3 endpoint on 127.0.0.1 for the demo, notebooks and tests.

Runs moto's S3 server (real HTTP, objects in memory) in a child process, so no botocore is
patched and the client's CPU is not shared with the server's Python. Needs the ``local``
extra: ``pip install 'mpu_toolkit[local]'``.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from typing import Any

from .. import hints
from ..errors import ConfigurationError, EndpointUnreachable

log = logging.getLogger(__name__)

__all__ = ["LocalS3"]

LOCAL_KEY = "mpu-local-key"
LOCAL_SECRET = "mpu-local-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalS3:
    """moto's S3 server on 127.0.0.1; use as a context manager or ``start()``/``stop()``.

    >>> with LocalS3() as s3:                     # doctest: +SKIP
    ...     df.to_parquet("mpu://bucket/x.parquet", storage_options=s3.storage_options)
    """

    def __init__(self, port: int | None = None, startup_timeout: float = 30.0) -> None:
        self.port = port or _free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def storage_options(self) -> dict[str, Any]:
        """What ``storage_options=`` needs to reach this server."""
        return {"endpoint_url": self.endpoint_url, "key": LOCAL_KEY, "secret": LOCAL_SECRET}

    def start(self) -> "LocalS3":
        try:
            import moto.server  # noqa: F401  (only checks that the extra is installed)
        except ImportError:
            raise ConfigurationError("the local S3 server needs moto: "
                                     "pip install 'mpu_toolkit[local]'") from None
        with socket.socket() as probe:  # else another server there would pass for ours
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is free
            try:
                probe.bind(("127.0.0.1", self.port))
            except OSError:
                raise ConfigurationError(f"127.0.0.1:{self.port} is in use: choose another "
                                         f"port ({hints.serve()})") from None
        env = {**os.environ, "AWS_ACCESS_KEY_ID": LOCAL_KEY,
               "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET, "AWS_DEFAULT_REGION": "us-east-1"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                log.info("local S3 (moto) listening on %s", self.endpoint_url)
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise EndpointUnreachable(f"the local S3 server did not start on {self.endpoint_url}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def __enter__(self) -> "LocalS3":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
