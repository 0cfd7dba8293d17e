"""``mpu serve``: the embedded S3 endpoint in the foreground, to try the library against.

It prints what to paste — the ``storage_options`` for Python and the ``AWS_*`` lines for a
shell — where the bytes are kept, and serves until Ctrl-C, SIGTERM or SIGHUP (which stop the
server and free the port). If the server process dies (e.g. killed for memory) it says so and
exits 1. With ``--data DIR`` the buckets and objects are kept in DIR across restarts (incomplete
uploads are not), and the server's spool folder is made in DIR; ``--max-bytes`` caps what it
holds.
"""

from __future__ import annotations

import argparse
import sys

from .._plan.sizing import counted, format_size, parse_size
from ..fs import MPUFileSystem
from ..testing import snapshot, spool
from ..testing.local import LocalS3
from .commands import EXIT_FAILED, EXIT_OK
from .parser import Adder
from .serve_watch import Stopped, obituary, stop_signals, wait_for_death

__all__ = ["register"]

DEFAULT_PORT = 9000


def register(add: Adder) -> None:
    cmd = add("serve", "run a local S3 endpoint (moto) on 127.0.0.1 until Ctrl-C", cmd_serve,
              description="Run a local S3 endpoint (moto) on 127.0.0.1 in the foreground, to "
                          "try mpu_toolkit and the examples of docs/getting-started.md against. Prints the "
                          "storage_options and AWS_* variables to use and where the bytes are "
                          "kept; Ctrl-C, SIGTERM or SIGHUP stops it.")
    cmd.add_argument("--port", type=int, default=DEFAULT_PORT,
                     help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    cmd.add_argument("--bucket", action="append", metavar="NAME",
                     help="create this bucket (repeatable; default: one named 'bucket')")
    cmd.add_argument("--data", metavar="DIR",
                     help="keep buckets and objects in DIR across restarts (saved when it "
                          "stops), and spool the bytes it holds on DIR's disk")
    cmd.add_argument("--max-bytes", metavar="SIZE",
                     help="refuse writes (EntityTooLarge) once objects and upload parts would "
                          "hold more than SIZE, e.g. 2GiB (default: no cap)")


def cmd_serve(args: argparse.Namespace) -> int:
    cap = parse_size(args.max_bytes, "--max-bytes") if args.max_bytes else None
    server = LocalS3(port=args.port, max_bytes=cap, spool_in=args.data,
                     cap_name="mpu serve --max-bytes")
    serving = False  # until the restore is done, a stop must not save (it would lose data)
    with stop_signals():
        try:
            server.start()
            pid = server.pid
            fs = MPUFileSystem(**server.storage_options, skip_instance_cache=True)
            restored = snapshot.restore(fs, args.data) if args.data else []
            for bucket in args.bucket or ([] if restored else ["bucket"]):
                if bucket not in restored:
                    fs.mkdir(bucket)
            _announce(server, sorted(b.rstrip("/") for b in fs.ls("", refresh=True)), args)
            serving = True
            code = wait_for_death(server)
            print(obituary(pid, code, server.log_tail(), args.data), file=sys.stderr)
            return EXIT_FAILED
        except (KeyboardInterrupt, Stopped) as stop:
            if args.data and serving and server.returncode is None:
                saved = snapshot.save(MPUFileSystem(**server.storage_options,
                                                    skip_instance_cache=True), args.data)
                print(f"saved {counted(saved, 'object')} into {args.data}", file=sys.stderr)
            print("stopped" + (f" ({stop})" if isinstance(stop, Stopped) else ""),
                  file=sys.stderr)
            return EXIT_OK
        finally:
            server.stop()


def _announce(server: LocalS3, buckets: list[str], args: argparse.Namespace) -> None:
    so = server.storage_options
    assert server.spool is not None  # it runs
    print(f"local S3 (moto, pid {server.pid}) on {server.endpoint_url}; buckets: "
          f"{', '.join(buckets) or 'none'}" + (f"; kept in {args.data}" if args.data else ""))
    print(spool.describe(server.spool, tmpfs_hint="--data DIR spools on DIR's disk"))
    print(f"cap: writes past {format_size(server.max_bytes)} held are refused (--max-bytes)"
          if server.max_bytes is not None else
          "cap: none (--max-bytes SIZE refuses writes past SIZE held)")
    print(f"\nPython:\n    so = {so!r}")
    print("\nshell (mpu, aws-cli, s3fs, boto3):")
    print(f"    export AWS_ENDPOINT_URL={so['endpoint_url']}")
    print(f"    export AWS_ACCESS_KEY_ID={so['key']} AWS_SECRET_ACCESS_KEY={so['secret']}")
    print("\nCtrl-C stops it.", flush=True)
