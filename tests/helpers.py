"""Checks of server state through an independent boto3 client (not the code under test)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from typing import Any, Iterator

MPU = shutil.which("mpu")  #: the installed console script, or None


def incomplete_uploads(boto: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    """Incomplete uploads of exactly ``key`` (every page), seen by an independent client."""
    found, markers = [], {}
    while True:
        page = boto.list_multipart_uploads(Bucket=bucket, Prefix=key, **markers)
        found += [u for u in page.get("Uploads", []) if u["Key"] == key]
        if not page.get("IsTruncated"):
            return found
        markers = {"KeyMarker": page["NextKeyMarker"],
                   "UploadIdMarker": page["NextUploadIdMarker"]}


def object_exists(boto: Any, bucket: str, key: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        boto.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as exc:
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise


def wait_until(condition: Any, timeout: float = 30.0) -> Any:
    """Poll ``condition()`` until it is truthy (returns it) or fail after ``timeout`` s."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout}s")


def proxied_fs(proxy: Any, storage_options: dict[str, Any], **options: Any) -> Any:
    """A fresh MPUFileSystem that talks to the server through ``proxy``."""
    from mpu_toolkit import MPUFileSystem

    so = {**storage_options, "endpoint_url": proxy.endpoint_url}
    return MPUFileSystem(**so, skip_instance_cache=True, **options)


class Mpu:
    """Runs `mpu SUBCOMMAND ... --endpoint-url URL` with credentials in the environment."""

    def __init__(self, storage_options: dict[str, Any], home: str) -> None:
        self.endpoint = storage_options["endpoint_url"]
        self.secret = storage_options["secret"]
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "MPU_TEST_"))}  # nothing from the caller's AWS setup
        env.update({
            "AWS_ACCESS_KEY_ID": storage_options["key"],
            "AWS_SECRET_ACCESS_KEY": storage_options["secret"],
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.path.join(home, "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "no-credentials"),
        })
        self.env = env

    executable = MPU

    def __call__(self, *args: str, verbose: bool = False, env: dict[str, str] | None = None,
                 timeout: float = 120, endpoint: str | None = None
                 ) -> subprocess.CompletedProcess[str]:
        assert MPU is not None
        argv = [MPU, *(["-vv"] if verbose else []), *args, "--endpoint-url",
                endpoint or self.endpoint]
        assert not any(self.secret in a for a in argv), "the secret must not be an argument"
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env={**self.env, **(env or {})})
        secrets = {self.secret, (env or {}).get("AWS_SECRET_ACCESS_KEY") or self.secret}
        for secret in secrets:
            assert secret not in done.stdout + done.stderr, (
                f"the secret appears in the output of `mpu {' '.join(args)}`")
        return done

    def json(self, *args: str) -> Any:
        done = self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


#: run as ``python -c RESTORE COMMAND...``: SIGINT back to its default, then exec the command
_RESTORE_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                   "os.execvp(sys.argv[1], sys.argv[1:])")


def with_sigint(argv: list[str]) -> list[str]:
    """``argv`` started with SIGINT at its default disposition, for every test that sends
    SIGINT (Ctrl-C) to a child.

    A test runner started in the background from a non-interactive shell (``pytest &`` in a
    script) ignores SIGINT, and its children inherit that: Python then installs no
    KeyboardInterrupt handler, and a SIGINT does nothing. A small Python trampoline resets
    the disposition and execs ``argv`` (the same process), which then handles SIGINT as a
    user's process does. (Not ``preexec_fn``: unsafe with the runner's threads.)
    """
    import sys

    return [sys.executable, "-c", _RESTORE_SIGINT, *argv]


@contextlib.contextmanager
def ctrl_c_pressed(started: Any, then: Any, after: float = 0.3) -> Iterator[None]:
    """Within the block (on the main thread): once the event ``started`` is set, a SIGINT
    lands on the main thread as Ctrl-C does, and ``after`` seconds later the event ``then``
    is set. Python's KeyboardInterrupt handler is installed meanwhile (a runner may have
    inherited an ignored SIGINT)."""
    import signal
    import threading
    import time

    def press() -> None:
        started.wait(10)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        time.sleep(after)
        then.set()

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=press, daemon=True).start()
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Wire:
    """Every request the filesystem's client sends: (operation, headers), recorded by a
    botocore before-send hook (nothing is replaced: the requests go to the server)."""

    def __init__(self, fs: Any) -> None:
        from mpu_toolkit._engine.blocking import run_blocking

        self.sent: list[tuple[str, dict[str, str]]] = []
        run_blocking(fs.loop, fs.set_session())
        fs.s3.meta.events.register("before-send.s3", self._record)

    def _record(self, request: Any, event_name: str = "", **kwargs: Any) -> None:
        self.sent.append((event_name.rsplit(".", 1)[-1],
                          {k.lower(): v for k, v in request.headers.items()}))

    def headers_of(self, operation: str) -> list[dict[str, str]]:
        return [h for op, h in self.sent if op == operation]


def self_signed_tls(folder: str) -> tuple[Any, str]:
    """A TLS server context for 127.0.0.1 with a fresh self-signed certificate, and the
    certificate's path (a client's ``verify=``): for a proxy that must serve HTTPS."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(folder, "proxy.pem"), os.path.join(folder, "proxy.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path
