"""Ports on 127.0.0.1: a free one, whether one is free, and which process holds one.

:func:`holder` names the process listening on a port: from ``/proc/net/tcp*`` and the
``/proc/<pid>/fd`` links on Linux, else from psutil when it is installed; ``None`` when neither
can tell (another user's process, another system).
"""

from __future__ import annotations

import importlib
import os
import socket
from pathlib import Path
from typing import Any

__all__ = ["free_port", "is_free", "holder"]

_LISTEN = "0A"  # the TCP state column of /proc/net/tcp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:``port`` now (TIME_WAIT counts as free)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def holder(port: int) -> str | None:
    """``pid 1234 (python -m http.server 9000)`` for the process listening on ``port``."""
    pid = _proc_holder(port) if Path("/proc/net/tcp").exists() else _psutil_holder(port)
    if pid is None:
        return None
    return f"pid {pid}" + (f" ({command})" if (command := _command(pid)) else "")


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == _LISTEN:
                inodes.add(fields[9])
    return inodes


def _proc_holder(port: int) -> int | None:
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    for entry in Path("/proc").iterdir() if wanted else ():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in wanted for fd in (entry / "fd").iterdir()):
                return int(entry.name)
        except OSError:  # gone, or another user's
            continue
    return None


def _psutil() -> Any:
    """psutil if installed (only the test extra has it), else None."""
    try:
        return importlib.import_module("psutil")
    except ImportError:
        return None


def _psutil_holder(port: int) -> int | None:
    psutil = _psutil()
    try:
        connections = psutil.net_connections(kind="tcp") if psutil else []
    except Exception:  # e.g. not allowed to look (macOS without root)
        return None
    return next((c.pid for c in connections if c.laddr and c.laddr.port == port
                 and c.status == psutil.CONN_LISTEN and c.pid), None)


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return raw.replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        try:
            return " ".join(_psutil().Process(pid).cmdline())
        except Exception:  # no psutil, or the process is gone or not ours
            return ""
