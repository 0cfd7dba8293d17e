"""What one UploadPart costs the client, apart from its bytes: CPU per request.

    python bench/request_bench.py [--sink null | --endpoint URL ...] [--requests 1000]

Sends ``--requests`` UploadParts of a 1 KiB body (so the bytes cost nothing) one after
another, and reports CPU milliseconds and wall milliseconds per request for:

* ``mpu``: mpu_toolkit's path (``S3Client.upload_part``: retry scope, error mapping, the
  digest of the default mode, the part path to a plain-HTTP endpoint);
* ``mpu-botocore``: the same with ``MPU_TOOLKIT_PART_PATH=botocore`` (botocore underneath,
  as for https endpoints);
* ``botocore``: the aiobotocore client's ``upload_part`` alone (param validation,
  serialization, endpoint rules, user agent, events, signing, send, parse);
* ``botocore-template``: a request prepared once and re-sent through botocore's
  ``_make_request`` (signing, send, retry loop and parse only): what a "prepared request
  template" lean path would save.

At the default part size (6 MiB: 171 parts per GiB) each millisecond per request is
0.17 CPU-s per GiB. The same quiet-machine guard as stream_bench.py: a load average above
1.0 at the start is waited out (--wait-quiet), then refused (exit code 3), or with
--allow-loaded the figures are marked LOADED.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from typing import Any, Awaitable, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_common import add_load_args, add_server_args, resolve_endpoint  # noqa: E402
from bench_common import wait_for_quiet  # noqa: E402


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _timed(send: Callable[[], Awaitable[Any]], n: int) -> tuple[float, float]:
    for _ in range(min(50, n)):  # warm: connections, caches
        await send()
    cpu, wall = _cpu(), time.perf_counter()
    for _ in range(n):
        await send()
    return (_cpu() - cpu) / n * 1e3, (time.perf_counter() - wall) / n * 1e3


async def _measure(fs: Any, botocore_fs: Any, bucket: str, n: int
                   ) -> dict[str, tuple[float, float]]:
    from mpu_toolkit._plan.integrity import PartDigest
    from mpu_toolkit.model import ObjectRef

    await fs.set_session()
    client = await fs.get_s3()
    ref = ObjectRef(bucket, "request-bench")
    upload_id = (await client.create_multipart_upload(Bucket=bucket, Key=ref.key))["UploadId"]
    body = b"x" * 1024
    captured: dict[str, Any] = {}

    def capture(params: Any = None, context: Any = None, model: Any = None, **_: Any) -> None:
        captured.update(request=params, context=context, model=model)

    client.meta.events.register("before-call.s3.UploadPart", capture)

    async def resend() -> None:
        request = dict(captured["request"], headers=dict(captured["request"]["headers"]),
                       body=body)
        http, parsed = await client._make_request(captured["model"], request,
                                                  dict(captured["context"]))
        assert http.status_code == 200, parsed

    try:
        return {
            "mpu": await _timed(lambda: fs._client.upload_part(ref, upload_id, 1, body,
                                                               PartDigest()), n),
            "mpu-botocore": await _timed(lambda: botocore_fs._client.upload_part(
                ref, upload_id, 1, body, PartDigest()), n),
            "botocore": await _timed(lambda: client.upload_part(
                Bucket=bucket, Key=ref.key, UploadId=upload_id, PartNumber=1, Body=body), n),
            "botocore-template": await _timed(resend, n),
        }
    finally:
        await client.abort_multipart_upload(Bucket=bucket, Key=ref.key, UploadId=upload_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_server_args(parser)
    add_load_args(parser)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)
    check = wait_for_quiet(args.wait_quiet, args.allow_loaded, args.max_load)
    if not args.endpoint and not args.sink:
        args.sink = "null"
    endpoint, key, secret, name, embedded = resolve_endpoint(args)
    try:
        from fsspec.asyn import sync

        from mpu_toolkit import MPUFileSystem

        from mpu_toolkit._s3.part_path import ENVIRONMENT_SWITCH, PartPath

        options = dict(endpoint_url=endpoint, key=key, secret=secret,
                       client_kwargs={"region_name": args.region})
        fs = MPUFileSystem(**options)
        botocore_fs = MPUFileSystem(**options, skip_instance_cache=True, loop=fs.loop)
        os.environ[ENVIRONMENT_SWITCH] = "botocore"  # read once per client, when it is made
        PartPath.of(sync(fs.loop, botocore_fs.set_session))
        del os.environ[ENVIRONMENT_SWITCH]
        bucket = "request-bench"
        if not fs.exists(bucket):
            fs.mkdir(bucket)
        results = sync(fs.loop, _measure, fs, botocore_fs, bucket, args.requests)
        print(f"UploadPart of 1 KiB, {args.requests} sequential requests, server {name}; "
              f"{check.summary(os.getloadavg()[0])}")
        print(f"{'path':<18} {'CPU ms/request':>15} {'wall ms/request':>16} "
              f"{'CPU-s/GiB at 6 MiB parts':>25}")
        for path, (cpu, wall) in results.items():
            print(f"{path:<18} {cpu:>15.3f} {wall:>16.3f} {cpu * 171 / 1e3:>25.3f}")
    finally:
        if embedded is not None:
            embedded.stop()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
