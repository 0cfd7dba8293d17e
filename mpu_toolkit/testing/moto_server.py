"""The local S3's server process: ``python -m mpu_toolkit.testing.moto_server --port N ...``.

moto's S3 on 127.0.0.1 with real upload dates (:mod:`.moto_patches`), an optional cap on the
bytes it holds (:mod:`.bytecap`), and a watch on its parent: when the process that started it is
gone (even SIGKILLed), it exits, so no orphan keeps the port. The watch polls the parent's pid
rather than using Linux's PR_SET_PDEATHSIG, which fires when the *thread* that started the
child ends (a LocalS3 started from a worker thread would lose its server with that thread); it
works wherever a dead parent's children are re-parented (POSIX), and does nothing elsewhere.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import threading
import time
from typing import Sequence

__all__ = ["main"]

_WATCH_INTERVAL = 0.5  # seconds between looks at the parent


def _exit_with_parent(parent: int, spool: str | None) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_WATCH_INTERVAL)
        if spool:  # the parent would have removed it
            shutil.rmtree(spool, ignore_errors=True)
        os._exit(0)  # the parent is gone: nobody will stop us, nobody can reach us
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mpu_toolkit.testing.moto_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent", type=int, help="exit once this process is gone")
    parser.add_argument("--max-bytes", type=int, help="refuse writes past this many bytes held")
    parser.add_argument("--spool", help="its folder, removed if it outlives its parent")
    parser.add_argument("--flag", default="--max-bytes", help="the cap's name in its errors")
    args = parser.parse_args(argv)
    if args.parent:
        _exit_with_parent(args.parent, args.spool)

    from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                               create_backend_app)
    from werkzeug.serving import run_simple

    from . import moto_patches
    from .bytecap import ByteCap

    moto_patches.install()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    app = DomainDispatcherApplication(create_backend_app)
    served = app if args.max_bytes is None else ByteCap(app, args.max_bytes, args.flag)
    run_simple("127.0.0.1", args.port, served, threaded=True,
               request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
