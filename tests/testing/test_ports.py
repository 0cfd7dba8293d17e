"""Free ports, busy ports, and who holds one."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from mpu_toolkit.testing.ports import free_port, holder, is_free


def test_a_listening_port_is_busy_and_its_holder_named():
    process = subprocess.Popen(
        [sys.executable, "-c", "import socket, time; s = socket.socket(); "
         "s.bind(('127.0.0.1', 0)); s.listen(); print(s.getsockname()[1], flush=True); "
         "time.sleep(60)  # the-holder"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())
        assert not is_free(port)
        named = holder(port)
    finally:
        process.kill()
        process.wait()
    if sys.platform.startswith("linux") or named is not None:
        assert named is not None and named.startswith(f"pid {process.pid} (")
        assert "the-holder" in named


def test_a_free_port_has_no_holder():
    port = free_port()
    assert is_free(port) and holder(port) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_bound_but_not_listening_socket_is_busy_without_a_listener():
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        assert not is_free(port) and holder(port) is None
