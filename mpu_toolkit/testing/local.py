"""A local S3 endpoint on 127.0.0.1 for the demo, notebooks and tests.

Runs moto's S3 server (real HTTP) in a child process, so no botocore is patched and the
client's CPU is not shared with the server's Python. The child (:mod:`.moto_server`) reports
real upload dates, can cap the bytes it holds, and exits when its parent is gone; its bytes go
to a spool folder of its own (:mod:`.spool`). Needs the ``local`` extra:
``pip install 'mpu_toolkit[local]'``.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from .. import hints
from ..errors import ConfigurationError, EndpointUnreachable
from . import ports, spool

log = logging.getLogger(__name__)

__all__ = ["LocalS3"]

LOCAL_KEY = "mpu-local-key"
LOCAL_SECRET = "mpu-local-secret"
_LOG = "server.log"


class LocalS3:
    """moto's S3 server on 127.0.0.1; use as a context manager or ``start()``/``stop()``.

    ``max_bytes`` caps the bytes it holds (objects and upload parts): a write past it is
    refused with ``EntityTooLarge``, naming ``cap_name``. Objects and parts over
    :data:`.spool.IN_MEMORY_UP_TO` are kept on disk, in a folder made in ``spool_in`` (default:
    the system's temporary folder) and deleted by ``stop()``.

    >>> with LocalS3() as s3:                     # doctest: +SKIP
    ...     df.to_parquet("mpu://bucket/x.parquet", storage_options=s3.storage_options)
    """

    def __init__(self, port: int | None = None, startup_timeout: float = 30.0, *,
                 max_bytes: int | None = None, spool_in: str | os.PathLike[str] | None = None,
                 cap_name: str = "max_bytes") -> None:
        self.port = port or ports.free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.max_bytes = max_bytes
        self.spool: Path | None = None  #: the folder of the bytes on disk, while it runs
        self._spool_in, self._cap_name = spool_in, cap_name
        self._timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def storage_options(self) -> dict[str, Any]:
        """What ``storage_options=`` needs to reach this server."""
        return {"endpoint_url": self.endpoint_url, "key": LOCAL_KEY, "secret": LOCAL_SECRET}

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        """None while the server runs; its exit status (``-9``: SIGKILL) once it has ended."""
        return self._process.poll() if self._process is not None else None

    def start(self) -> "LocalS3":
        try:
            import moto.server  # noqa: F401  (only checks that the extra is installed)
        except ImportError:
            raise ConfigurationError("the local S3 server needs moto: "
                                     "pip install 'mpu_toolkit[local]'") from None
        if not ports.is_free(self.port):  # else another server there would pass for ours
            held = ports.holder(self.port)
            raise ConfigurationError(f"127.0.0.1:{self.port} is in use"
                                     + (f" by {held}" if held else "")
                                     + f": stop it, or choose another port ({hints.serve('N')})")
        try:
            self._spawn()
            self._wait_until_listening()
        except BaseException:  # also an interrupt while it starts: leave no server behind
            self.stop()
            raise
        log.info("local S3 (moto) listening on %s", self.endpoint_url)
        return self

    def _spawn(self) -> None:
        self.spool = spool.make(self._spool_in)
        self._log = open(self.spool / _LOG, "wb")
        package_root = str(Path(__file__).resolve().parents[2])  # this copy of mpu_toolkit
        env = {**os.environ, "AWS_ACCESS_KEY_ID": LOCAL_KEY, "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET,
               "AWS_DEFAULT_REGION": "us-east-1", "TMPDIR": str(self.spool),
               "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(spool.IN_MEMORY_UP_TO),
               "PYTHONPATH": os.pathsep.join(filter(None, [package_root,
                                                           os.environ.get("PYTHONPATH")]))}
        command = [sys.executable, "-m", "mpu_toolkit.testing.moto_server",
                   "--port", str(self.port), "--parent", str(os.getpid()),
                   "--spool", str(self.spool)]
        if self.max_bytes is not None:
            command += ["--max-bytes", str(self.max_bytes), "--flag", self._cap_name]
        # its own session: a Ctrl-C in the terminal reaches the parent, which stops it in order
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log,
                                         stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True)

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline and self.returncode is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        said = self.log_tail()
        raise EndpointUnreachable(f"the local S3 server did not start on {self.endpoint_url}"
                                  + (f": {said}" if said else ""))

    def log_tail(self, lines: int = 5) -> str:
        """The last lines the server wrote (its errors), while its spool folder exists."""
        try:
            text = (self.spool / _LOG).read_text(errors="replace") if self.spool else ""
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.spool is not None:
            spool.remove(self.spool)
            self.spool = None

    def __enter__(self) -> "LocalS3":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
