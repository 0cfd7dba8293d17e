"""One measured upload in a fresh process: ``python bench/bench_worker.py SPEC.json RESULT.json``.

The parent (stream_bench.py) starts one of these per writer x repetition so that the CPU
seconds (getrusage of this process: every thread, including Rust/C++ I/O threads) and the
RSS growth belong to that writer alone. Imports and client construction happen before the
measured window; the window is open -> all writes -> close (Complete returned).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import threading
import time
import traceback
from typing import Any

from bench_producer import MiB, Producer


class RssSampler(threading.Thread):
    """Peak RSS, sampled every ``interval`` seconds (psutil)."""

    def __init__(self, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self._stop_event = threading.Event()
        self.peak = self._proc.memory_info().rss
        self.samples = 0

    def rss(self) -> int:
        return self._proc.memory_info().rss

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, self.rss())
            self.samples += 1
            self._stop_event.wait(self._interval)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, self.rss())
        return self.peak


def _cpu() -> tuple[float, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime, ru.ru_stime


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    from bench_writers import WRITERS  # imports the writer's library (outside the window)

    writer = WRITERS[spec["writer"]]
    size = int(spec["size"])
    prepared = writer.prepare(spec)  # client / filesystem construction, not timed
    producer = Producer(size)
    gc.collect()
    sampler = RssSampler(spec.get("rss_interval", 0.02))
    rss_before = sampler.rss()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sampler.start()
    u0, s0 = _cpu()
    t0 = time.perf_counter()
    info = writer.run(prepared, spec, producer)
    elapsed = time.perf_counter() - t0
    u1, s1 = _cpu()
    peak = sampler.stop()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    writer.finish(prepared)
    return {
        "ok": True, "writer": spec["writer"], "size": size, "elapsed_s": elapsed,
        "mb_per_s": size / elapsed / 1e6, "cpu_user_s": u1 - u0, "cpu_sys_s": s1 - s0,
        "cpu_s": (u1 - u0) + (s1 - s0), "rss_before_mib": rss_before / MiB,
        "rss_peak_mib": peak / MiB, "rss_growth_mib": (peak - rss_before) / MiB,
        "ru_maxrss_mib": maxrss / MiB, "ru_maxrss_before_mib": maxrss_before / MiB,
        "ru_maxrss_growth_mib": (maxrss - rss_before) / MiB, "rss_samples": sampler.samples,
        "pid": os.getpid(), **info,
    }


def main() -> int:
    spec_path, result_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        result = measure(spec)
    except BaseException as exc:  # report, never hang: the parent decides what it means
        result = {"ok": False, "writer": spec.get("writer"), "error": f"{type(exc).__name__}: "
                  f"{exc}"[:2000], "traceback": traceback.format_exc()[-4000:]}
    with open(result_path, "w") as f:
        json.dump(result, f)
    sys.stdout.flush()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    # os._exit: skip interpreter teardown (pyarrow/obstore runtimes, atexit hooks) — the
    # result is already on disk and the measured window is over.
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
