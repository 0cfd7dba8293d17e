"""What the interrupt tests share: a child process running one blocking entry point, the
SIGINT that stops it (and the stacks it dumps when it does not stop), the work each entry
point is given, and the checks of what is left on the server.

Used by ``test_interrupts.py`` (an interrupt after part N) and ``test_interrupt_storm.py``
(interrupts at random moments).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any, Callable

from helpers import incomplete_uploads, object_exists, with_sigint

from mpu_toolkit._plan.sizing import MiB

PART = 5 * MiB
SLOW = 0.4  # seconds each slowed request takes at the proxy

#: a child that runs one blocking entry point and prints a line per finished part
CHILD = textwrap.dedent("""
    import faulthandler, json, os, signal, sys, time
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the test's view of a hang
    import numpy as np, pandas as pd
    import mpu_toolkit
    from mpu_toolkit import uploads

    what, url, so, arg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]

    def progress(event):
        if event.parts_done:
            print("part", event.parts_done, flush=True)

    options = dict(storage_options=so, part_size="5MiB", concurrency=2, progress=progress)
    print("go", flush=True)  # imports done: the work starts now
    if what == "upload_file":
        mpu_toolkit.upload_file(arg, url, **options)
    elif what == "upload_file-resume":
        mpu_toolkit.upload_file(arg, url, resume=True, **options)
    elif what == "compose":
        mpu_toolkit.compose(json.loads(arg), url, copy_cutoff=0, **options)
    elif what == "copy":
        mpu_toolkit.copy(arg, url, copy_cutoff=0, **options)
    elif what.startswith("write_"):  # write_parquet, write_csv, write_jsonl: endless frames
        def frames():  # numbers, text and times: pandas' JSON encoder calls back into Python
            rng, rows = np.random.default_rng(1), 200_000
            while True:
                yield pd.DataFrame({"x": rng.normal(size=rows),
                                    "s": rng.integers(0, 10**9, rows).astype(str),
                                    "t": pd.date_range("2024-01-01", periods=rows, freq="s")})
        extra = dict(row_group_size=200_000) if what == "write_parquet" else {}
        getattr(mpu_toolkit, what)(frames(), url, **extra, **options)
    elif what == "fsspec-wb":  # an endless stream into an fsspec file
        block = np.random.default_rng(4).bytes(1 << 20)
        with mpu_toolkit.MPUFileSystem(**so).open(url, "wb", part_size="5MiB", concurrency=2,
                                                  progress=progress) as f:
            while True:
                f.write(block)
    elif what == "uploads.abort":
        print("part", 1, flush=True)
        uploads.abort(url, storage_options=so, force=True, concurrency=1)
    elif what == "to_single_object":
        import dask.dataframe as dd
        frame = pd.DataFrame({"x": np.random.default_rng(2).normal(size=4_000_000)})
        print("part", 1, flush=True)
        mpu_toolkit.to_single_object(dd.from_pandas(frame, npartitions=4), url,
                                     storage_options=so, part_size="5MiB")
    elif what == "to_dataset":
        import dask.dataframe as dd
        frame = pd.DataFrame({"x": np.random.default_rng(3).normal(size=4_000_000)})
        mpu_toolkit.to_dataset(dd.from_pandas(frame, npartitions=4), url,
                               storage_options=so, part_size="5MiB")
    elif what == "UploadHandle.upload_parts":
        handle = mpu_toolkit.start_upload(url, storage_options=so)
        print("handle", handle.upload_id, flush=True)
        data = os.urandom(5 << 20)
        handle.upload_parts([(n, data) for n in range(1, 13)], concurrency=2)
""")


def child(what: str, url: str, so: dict[str, Any], arg: str = "") -> subprocess.Popen[str]:
    """CHILD running ``what``, SIGINT at its default (see ``helpers.with_sigint``)."""
    return subprocess.Popen(with_sigint([sys.executable, "-c", CHILD, what, url,
                                         json.dumps(so), arg]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def line_starting(process: subprocess.Popen[str], word: str) -> str:
    """The child's first output line starting with ``word`` (earlier ones are skipped)."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(word):
            return line
    raise AssertionError(f"the child ended without a {word!r} line: {process.stderr.read()}"
                         if process.stderr else "")


def mpu_process(mpu: Any, endpoint: str, *args: str) -> subprocess.Popen[str]:
    """``mpu ARGS --endpoint-url ENDPOINT``, SIGINT at its default, output captured."""
    return subprocess.Popen(with_sigint([mpu.executable, *args, "--endpoint-url", endpoint]),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=mpu.env)


def interrupt_after_parts(process: subprocess.Popen[str], parts: int = 1) -> str:
    """SIGINT once ``parts`` parts are done; the child's stderr once it has exited."""
    while int(line_starting(process, "part").split()[1]) < parts:
        pass
    stderr = interrupted(process)
    assert process.returncode != 0, stderr
    return stderr


def interrupted(process: subprocess.Popen[str], within: float = 60) -> str:
    """SIGINT to ``process``; its stderr once it has exited. A child still running
    ``within`` seconds later fails the test with every thread's stack (the children of
    ``CHILD`` dump them on SIGUSR1) and is killed."""
    return interrupted_output(process, within)[1]


#: CPython drops a KeyboardInterrupt that lands in a weakref callback or a ``__del__`` run by
#: the garbage collector, printing this: no code can catch it (a user presses Ctrl-C again).
SWALLOWED = re.compile(r"Exception ignored in: [^\n]*\n(?:[^\n]*\n){0,12}?KeyboardInterrupt")


def interrupted_output(process: subprocess.Popen[str], within: float = 60) -> tuple[str, str]:
    """:func:`interrupted`, returning the rest of the child's stdout too. An interrupt that
    CPython dropped (:data:`SWALLOWED`) is sent once more, as a user would."""
    process.send_signal(signal.SIGINT)
    again, deadline = True, time.monotonic() + within
    while True:
        try:
            stdout, stderr = process.communicate(timeout=2)
            return stdout, stderr
        except subprocess.TimeoutExpired as waiting:
            so_far = waiting.stderr or b""
            text = so_far.decode(errors="replace") if isinstance(so_far, bytes) else so_far
            if again and SWALLOWED.search(text):
                process.send_signal(signal.SIGINT)
                again = False
            if time.monotonic() > deadline:
                break
    process.send_signal(signal.SIGUSR1)
    time.sleep(1)
    process.kill()
    stderr = process.communicate(timeout=30)[1]
    raise AssertionError(f"still running {within:g} s after SIGINT; its threads:\n"
                         f"{stderr[-20_000:]}")


def slowed(proxy: Any, storage_options: dict[str, Any], *requests: str,
           seconds: float = SLOW) -> dict[str, Any]:
    """Storage options through ``proxy``, where each of ``requests`` takes ``seconds``."""
    for request in requests:
        proxy.fail(request, "delay", times=10_000, seconds=seconds)
    return {**storage_options, "endpoint_url": proxy.endpoint_url}


def settled(boto: Any, bucket: str, key: str, seconds: float = 3 * SLOW + 1) -> None:
    """Long enough for any request still on its way to have landed."""
    time.sleep(seconds)


def nothing_left(boto: Any, bucket: str, key: str) -> None:
    """Once settled: ``key`` is not published and has no incomplete upload."""
    settled(boto, bucket, key)
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


# -- what each entry point works on: set up directly, its CHILD argument returned -------------
def big_file(tmp_path: Any, boto: Any, bucket: str, key: str) -> str:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(12 * PART))
    return str(path)


def compose_sources(tmp_path: Any, boto: Any, bucket: str, key: str) -> str:
    sources = []
    for i in range(6):
        boto.put_object(Bucket=bucket, Key=f"{key}.{i}", Body=os.urandom(PART + i))
        sources.append(f"mpu://{bucket}/{key}.{i}")
    return json.dumps(sources)


def copy_source(tmp_path: Any, boto: Any, bucket: str, key: str) -> str:
    boto.put_object(Bucket=bucket, Key=f"{key}.src", Body=os.urandom(12 * PART))
    return f"mpu://{bucket}/{key}.src"


def endless(tmp_path: Any, boto: Any, bucket: str, key: str) -> str:
    return ""  # the frame writers and "fsspec-wb" make their own endless stream


#: CHILD's entry point -> (the request slowed so that the interrupt lands mid-work, its setup,
#: how many of that request the whole work takes: None for the endless frames)
WORK: dict[str, tuple[str, Callable[[Any, Any, str, str], str], int | None]] = {
    "upload_file": ("UploadPart", big_file, 12),
    "upload_file-resume": ("UploadPart", big_file, 12),
    "compose": ("UploadPartCopy", compose_sources, 6),
    "copy": ("UploadPartCopy", copy_source, 12),
    "write_parquet": ("UploadPart", endless, None),
    "write_csv": ("UploadPart", endless, None),
    "write_jsonl": ("UploadPart", endless, None),
    "fsspec-wb": ("UploadPart", endless, None),
}


def prepared(what: str, tmp_path: Any, proxy: Any, storage_options: dict[str, Any],
             boto: Any, bucket: str, key: str, slow: float = SLOW
             ) -> tuple[str, dict[str, Any], str]:
    """(the slowed request, storage options through the proxy, the argument) for ``what``."""
    request, setup, _ = WORK[what]
    arg = setup(tmp_path, boto, bucket, key)
    return request, slowed(proxy, storage_options, request, seconds=slow), arg


def stopped_early(proxy: Any, what: str) -> bool:
    """The interrupt stopped the work: not every part was sent."""
    request, _, parts = WORK[what]
    return parts is None or proxy.seen.count(request) < parts


