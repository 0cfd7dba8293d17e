"""What copying writes into part buffers costs the writer, against holding ``bytes`` writes.

    python bench/buffer_copy_bench.py [--size 2GiB] [--repeat 3] [--sink md5]

The streaming writer copies a ``write()`` into a part buffer, except a large ``bytes`` one,
which its part holds as it is (:mod:`mpu_toolkit._engine.filling`). This measures the
difference two ways, on a quiet machine (the same guard as stream_bench.py):

* **in place**: the writer (``checksum="none"``) into the sink, 1 MiB writes of fresh
  ``bytes`` (held) and of fresh ``bytearray`` (copied), each run in a fresh process,
  alternating; the difference of the medians is what the copy costs inside the writer, with
  16 part buffers in flight and the kernel's sends beside it;
* **alone**: the same copies into one warm buffer, and into a ring of ``--ring`` part
  buffers (a cold destination each time, as in the writer): where the cost comes from.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from bench_common import SinkServer, add_load_args, parse_size, wait_for_quiet

MiB = 1024 * 1024
GiB = 1024 * MiB

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {bench!r})
from bench_producer import Producer
import mpu_toolkit
so = {{"endpoint_url": {endpoint!r}, "key": "bench", "secret": "bench"}}
fs = mpu_toolkit.MPUFileSystem(**so)
fs.connect()
with mpu_toolkit.open_writer("mpu://copy-bench/warm", storage_options=so, checksum="none") as f:
    for chunk in Producer(64 * 1024 * 1024).chunks():  # imports and the pool: warm
        f.write(chunk)
        f.write(bytearray(chunk))  # numpy's copy loop, imported at the first large copy
pool = Producer(0).pool  # random 1 MiB buffers
fresh = bytearray if {copied!r} else bytes  # a fresh copy of one per write: the same cost
ru0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
with mpu_toolkit.open_writer("mpu://copy-bench/k", storage_options=so, checksum="none") as f:
    for i in range({size} // len(pool[0])):
        f.write(fresh(pool[i % len(pool)]))
elapsed = time.perf_counter() - t0
ru1 = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"cpu": ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime,
                  "seconds": elapsed}}))
"""


def in_place(endpoint: str, size: int, copied: bool) -> dict[str, float]:
    code = _CHILD.format(bench=os.path.dirname(os.path.abspath(__file__)), endpoint=endpoint,
                         copied=copied, size=size)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return dict(json.loads(done.stdout.splitlines()[-1]))


def alone(ring: int, part: int, parts: int) -> tuple[float, float]:
    """CPU-s per GiB of 1 MiB copies into one warm part buffer, and into a ring of them."""
    import numpy

    sources = [bytearray(os.urandom(MiB)) for _ in range(4)]
    buffers = [bytearray(part) for _ in range(ring)]
    for buffer in buffers:
        buffer[:] = bytes(part)  # touched: no page faults in the timed loop

    def copies(targets: list[bytearray]) -> float:
        start = time.process_time()
        for number in range(parts):
            target = numpy.frombuffer(targets[number % len(targets)], numpy.uint8)
            for i in range(part // MiB):
                target[i * MiB:(i + 1) * MiB] = numpy.frombuffer(sources[i % 4], numpy.uint8)
        return (time.process_time() - start) / (parts * part / GiB)

    return copies(buffers[:1]), copies(buffers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=2 * GiB)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sink", default="md5", help="the sink's settings (stream_bench's)")
    parser.add_argument("--ring", type=int, default=16, help="part buffers in flight")
    add_load_args(parser)
    args = parser.parse_args(argv)
    check = wait_for_quiet(args.wait_quiet, args.allow_loaded, args.max_load)
    sink = SinkServer(args.sink).start()
    try:
        runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}  # by copied
        for _ in range(args.repeat):
            for copied in (True, False):
                runs[copied].append(in_place(sink.endpoint, args.size, copied))
    finally:
        sink.stop()
    gib = args.size / GiB
    cpu = {copied: statistics.median(r["cpu"] for r in found) / gib
           for copied, found in runs.items()}
    speed = {copied: statistics.median(args.size / r["seconds"] / 1e6 for r in found)
             for copied, found in runs.items()}
    warm, cold = alone(args.ring, 6 * MiB, 171 * 2)
    print(f"the writer's copy into part buffers, {sink.name}, {args.size / GiB:g} GiB in 1 MiB "
          f"writes, checksum='none', median of {args.repeat}; "
          f"{check.summary(os.getloadavg()[0])}")
    print(f"  in place: bytearray writes (copied) {cpu[True]:.2f} CPU-s/GiB "
          f"({speed[True]:.0f} MB/s), bytes writes (held) {cpu[False]:.2f} "
          f"({speed[False]:.0f} MB/s): the copy costs {cpu[True] - cpu[False]:.2f} CPU-s/GiB")
    print(f"  alone: into one warm 6 MiB buffer {warm:.3f} CPU-s/GiB, into a ring of "
          f"{args.ring} ({args.ring * 6} MiB, cold each time) {cold:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
