"""``mpu serve``: the embedded S3 endpoint in the foreground, to try the library against.

It prints what to paste — the ``storage_options`` for Python and the ``AWS_*`` lines for a
shell — and serves until Ctrl-C. With ``--data DIR`` the buckets and objects are kept in DIR
across restarts (incomplete uploads are not).
"""

from __future__ import annotations

import argparse
import sys
import time

from .._plan.sizing import counted
from ..fs import MPUFileSystem
from ..testing import snapshot
from ..testing.local import LocalS3
from .parser import Adder

__all__ = ["register"]

DEFAULT_PORT = 9000


def register(add: Adder) -> None:
    cmd = add("serve", "run a local S3 endpoint (moto) on 127.0.0.1 until Ctrl-C", cmd_serve,
              description="Run a local S3 endpoint (moto) on 127.0.0.1 in the foreground, to "
                          "try mpu_toolkit and the README's examples against. Prints the "
                          "storage_options and AWS_* variables to use; Ctrl-C stops it.")
    cmd.add_argument("--port", type=int, default=DEFAULT_PORT,
                     help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    cmd.add_argument("--bucket", action="append", metavar="NAME",
                     help="create this bucket (repeatable; default: one named 'bucket')")
    cmd.add_argument("--data", metavar="DIR",
                     help="keep buckets and objects in DIR across restarts (saved on Ctrl-C)")


def cmd_serve(args: argparse.Namespace) -> int:
    server = LocalS3(port=args.port).start()
    try:
        fs = MPUFileSystem(**server.storage_options, skip_instance_cache=True)
        restored = snapshot.restore(fs, args.data) if args.data else []
        for bucket in args.bucket or ([] if restored else ["bucket"]):
            if bucket not in restored:
                fs.mkdir(bucket)
        _announce(server, sorted(b.rstrip("/") for b in fs.ls("", refresh=True)), args)
        while True:  # until Ctrl-C
            time.sleep(3600)
    except KeyboardInterrupt:
        if args.data:
            saved = snapshot.save(MPUFileSystem(**server.storage_options,
                                                skip_instance_cache=True), args.data)
            print(f"saved {counted(saved, 'object')} into {args.data}", file=sys.stderr)
        print("stopped", file=sys.stderr)
        return 0
    finally:
        server.stop()
    return 0  # pragma: no cover - the wait above ends only with Ctrl-C


def _announce(server: LocalS3, buckets: list[str], args: argparse.Namespace) -> None:
    so = server.storage_options
    print(f"local S3 (moto) on {server.endpoint_url}; buckets: {', '.join(buckets) or 'none'}"
          + (f"; kept in {args.data}" if args.data else ""))
    print(f"\nPython:\n    so = {so!r}")
    print("\nshell (mpu, aws-cli, s3fs, boto3):")
    print(f"    export AWS_ENDPOINT_URL={so['endpoint_url']}")
    print(f"    export AWS_ACCESS_KEY_ID={so['key']} AWS_SECRET_ACCESS_KEY={so['secret']}")
    print("\nCtrl-C stops it.", flush=True)
