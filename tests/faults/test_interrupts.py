"""Interrupts stop the work: Ctrl-C (SIGINT), Jupyter's "Interrupt kernel" and asyncio
cancellation stop the requests in flight, then the upload is aborted — or kept, when resuming
was asked for — and the exception's notes say which. Checked on the server, with an
independent client, after the interrupted process is gone: nothing is published afterwards,
and nothing is left that the notes do not name.

Each run goes through the fault proxy, which slows the requests down (``delay``) so that the
interrupt lands while parts are in flight, not before or after them.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
from typing import Any, Callable, Coroutine

import pytest
from helpers import incomplete_uploads, object_exists, proxied_fs, wait_until, with_sigint
from interrupting import (CHILD, PART, child, interrupt_after_parts, interrupted,
                          line_starting, mpu_process, nothing_left, prepared, settled, slowed,
                          stopped_early)

pytestmark = pytest.mark.slow


def cancelled_notes(fs: Any, upload: Coroutine[Any, Any, Any],
                    started: Callable[[], bool]) -> list[str]:
    """Run ``upload`` on the filesystem's loop, cancel its task once ``started()``, and return
    the notes of the CancelledError it ends with (what happened to the upload)."""
    async def main() -> list[str]:
        task = asyncio.ensure_future(upload)
        while not started():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as info:
            await task
        return list(info.value.__notes__)

    return asyncio.run_coroutine_threadsafe(main(), fs.loop).result(60)


@pytest.mark.parametrize("resume", [False, True])
def test_ctrl_c_stops_upload_file(resume, tmp_path, proxy, storage_options, boto, bucket, key):
    what = "upload_file-resume" if resume else "upload_file"
    _, so, path = prepared(what, tmp_path, proxy, storage_options, boto, bucket, key)
    stderr = interrupt_after_parts(child(what, f"mpu://{bucket}/{key}", so, path))
    assert "KeyboardInterrupt" in stderr
    settled(boto, bucket, key)
    assert not object_exists(boto, bucket, key)
    left = incomplete_uploads(boto, bucket, key)
    if resume:  # kept, and named with the command that finishes it
        [upload] = left
        assert f"mpu put --resume --upload-id {shlex.quote(upload['UploadId'])}" in stderr
        boto.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
    else:
        assert left == [] and "aborted, nothing published" in stderr
    assert stopped_early(proxy, what)


@pytest.mark.parametrize("what", ["compose", "copy", "write_parquet", "write_csv",
                                  "write_jsonl"])
def test_ctrl_c_stops_and_aborts(what, tmp_path, proxy, storage_options, boto, bucket, key):
    """compose and a multipart server-side copy (UploadPartCopy parts), and the frame writers
    streaming endless frames: SIGINT after the first part, the upload aborted."""
    _, so, arg = prepared(what, tmp_path, proxy, storage_options, boto, bucket, key)
    stderr = interrupt_after_parts(child(what, f"mpu://{bucket}/{key}", so, arg))
    assert "KeyboardInterrupt" in stderr and "aborted, nothing published" in stderr
    nothing_left(boto, bucket, key)
    assert stopped_early(proxy, what)


def started_uploads(boto: Any, bucket: str, prefix: str, n: int) -> None:
    for i in range(n):
        boto.create_multipart_upload(Bucket=bucket, Key=f"{prefix}{i}")


def uploads_under(boto: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    pages = boto.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix)
    return [u for page in pages for u in page.get("Uploads", [])]


def abort_left(boto: Any, bucket: str, prefix: str) -> int:
    """Abort (clean up) the uploads still under ``prefix``; how many there were."""
    left = uploads_under(boto, bucket, prefix)
    for u in left:
        boto.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
    return len(left)


def test_ctrl_c_stops_an_abort_batch_and_says_how_far_it_got(proxy, storage_options, boto,
                                                             bucket, key):
    started_uploads(boto, bucket, f"{key}/", 8)
    so = slowed(proxy, storage_options, "AbortMultipartUpload")
    process = child("uploads.abort", f"mpu://{bucket}/{key}/", so)
    # one abort done, the next in flight (each takes SLOW at the proxy)
    wait_until(lambda: proxy.seen.count("AbortMultipartUpload") >= 2, timeout=60)
    stderr = interrupted(process)
    assert "KeyboardInterrupt" in stderr and "the others are untouched" in stderr
    settled(boto, bucket, key)
    assert 0 < abort_left(boto, bucket, f"{key}/") < 8  # it stopped part-way; the rest stay


def mpu_interrupted(mpu: Any, proxy: Any, request: str, seen: int, *args: str) -> str:
    """Run ``mpu ARGS`` through the proxy and press Ctrl-C (SIGINT) once ``seen`` of the
    slowed ``request`` reached it. It exits 130 with no traceback: stderr is "mpu:
    interrupted" and, indented, the notes saying what was aborted or kept (returned)."""
    process = mpu_process(mpu, proxy.endpoint_url, *args)
    wait_until(lambda: proxy.seen.count(request) >= seen, timeout=60)
    stderr = interrupted(process)
    assert process.returncode == 130, stderr
    # besides the log (e.g. a retried request's WARNING), nothing but the message
    first, *notes = [line for line in stderr.splitlines()
                     if not re.match(r"(DEBUG|INFO|WARNING) mpu_toolkit[\w.]*: ", line)]
    assert first == "mpu: interrupted" and "Traceback" not in stderr, stderr
    assert all(note.startswith("  ") for note in notes), stderr
    return "\n".join(notes)


#: mpu command -> the CHILD entry point it runs, and its options besides SRC and DST
TRANSFERS = {
    "put": ("upload_file", ["--concurrency", "2"]),
    "cp": ("copy", ["--concurrency", "2", "--copy-cutoff", "0"]),
    "compose": ("compose", []),
}


@pytest.mark.parametrize("command", list(TRANSFERS))
def test_ctrl_c_stops_mpu_transfers_with_exit_130(command, tmp_path, proxy, storage_options,
                                                  boto, bucket, key, mpu):
    what, options = TRANSFERS[command]
    request, _, arg = prepared(what, tmp_path, proxy, storage_options, boto, bucket, key)
    sources = json.loads(arg) if command == "compose" else [arg]
    notes = mpu_interrupted(mpu, proxy, request, 3, command, *sources,
                            f"mpu://{bucket}/{key}", "--part-size", "5MiB", *options)
    assert "aborted, nothing published" in notes
    nothing_left(boto, bucket, key)
    if command != "compose":  # which has no --concurrency: its 6 parts are sent at once
        assert stopped_early(proxy, what)


def test_ctrl_c_stops_mpu_abort_with_exit_130_and_says_how_far_it_got(proxy, storage_options,
                                                                     boto, bucket, key, mpu):
    started_uploads(boto, bucket, f"{key}/", 24)
    slowed(proxy, storage_options, "AbortMultipartUpload")
    # the first aborts (8 at once) done, the next in flight
    notes = mpu_interrupted(mpu, proxy, "AbortMultipartUpload", 9, "abort",
                            f"mpu://{bucket}/{key}/", "--force", "--yes")
    said = re.search(r"stopped after \d+ of 24 uploads \((\d+) aborted(?:; (\d+) more were in "
                     r"flight and may be aborted too)?\); the others are untouched", notes)
    assert said, notes
    aborted, in_flight = int(said[1]), int(said[2] or 0)
    settled(boto, bucket, key)
    left = abort_left(boto, bucket, f"{key}/")
    # it stopped part-way, and only the uploads the note names were touched
    assert 0 < 24 - aborted - in_flight <= left <= 24 - aborted


def test_ctrl_c_stops_mpu_uploads_with_exit_130_and_changes_nothing(proxy, storage_options,
                                                                   boto, bucket, key, mpu):
    started_uploads(boto, bucket, f"{key}/", 24)
    slowed(proxy, storage_options, "ListParts")
    mpu_interrupted(mpu, proxy, "ListParts", 2, "uploads", f"mpu://{bucket}/{key}/")
    settled(boto, bucket, key)
    assert boto.list_objects_v2(Bucket=bucket, Prefix=f"{key}/").get("Contents", []) == []
    assert abort_left(boto, bucket, f"{key}/") == 24  # a listing aborts nothing
    assert proxy.seen.count("ListParts") < 24  # it stopped: not every upload was sized


def test_cancelling_the_coroutine_aborts(tmp_path, proxy, storage_options, boto, bucket, key):
    """asyncio callers: cancelling the task of fs._upload_file stops it the same way."""
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(8 * PART))
    fs = proxied_fs(proxy, slowed(proxy, storage_options, "UploadPart"))

    notes = cancelled_notes(fs, fs._upload_file(str(path), f"{bucket}/{key}", part_size=PART,
                                                concurrency=2),
                            lambda: proxy.seen.count("UploadPart") >= 2)
    assert any("aborted, nothing published" in n for n in notes)
    nothing_left(boto, bucket, key)


def jupyter_interrupted(code: str, started: Callable[[], bool]) -> str:
    """Run ``code`` in a real kernel (what nbclient drives) and interrupt it as the "Interrupt
    kernel" button does once ``started()``; what the cell printed. It must end in
    KeyboardInterrupt."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        msg_id = client.execute(code)
        wait_until(started, timeout=60)
        manager.interrupt_kernel()
        printed, status, error = "", None, None
        while status != "idle":
            message = client.get_iopub_msg(timeout=60)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "stream":
                printed += message["content"]["text"]
            elif message["msg_type"] == "error":
                error = message["content"]["ename"]
            elif message["msg_type"] == "status":
                status = message["content"]["execution_state"]
        assert error == "KeyboardInterrupt", printed
        return printed
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.mark.parametrize("what", ["upload_file", "compose", "write_parquet"])
def test_jupyter_interrupt_stops_and_aborts(what, tmp_path, proxy, storage_options, boto,
                                            bucket, key):
    """The "Interrupt kernel" button: CHILD's code run in the kernel's main thread, as a cell
    would, interrupted while slowed parts are in flight."""
    request, so, arg = prepared(what, tmp_path, proxy, storage_options, boto, bucket, key)
    argv = ["-c", what, f"mpu://{bucket}/{key}", json.dumps(so), arg]
    code = textwrap.dedent(f"""
        import sys
        sys.argv = {argv!r}
        try:
            exec({CHILD!r}, {{}})
        except KeyboardInterrupt as interrupt:
            print("NOTES", interrupt.__notes__)
            raise
    """)
    printed = jupyter_interrupted(code, lambda: proxy.seen.count(request) >= 2)
    assert "NOTES" in printed and "aborted, nothing published" in printed, printed
    nothing_left(boto, bucket, key)
    assert stopped_early(proxy, what)


def test_ctrl_c_stops_to_single_object(proxy, storage_options, boto, bucket, key):
    so = slowed(proxy, storage_options, "UploadPart")
    process = child("to_single_object", f"mpu://{bucket}/{key}.csv", so)
    wait_until(lambda: proxy.seen.count("UploadPart") >= 2, timeout=120)
    stderr = interrupted(process, within=120)
    assert "KeyboardInterrupt" in stderr and "aborted, nothing published" in stderr
    nothing_left(boto, bucket, f"{key}.csv")


def test_ctrl_c_stops_to_dataset_and_leaves_nothing_under_the_prefix(proxy, storage_options,
                                                                     boto, bucket, key):
    so = slowed(proxy, storage_options, "UploadPart")
    process = child("to_dataset", f"mpu://{bucket}/{key}/", so)
    wait_until(lambda: proxy.seen.count("UploadPart") >= 2, timeout=120)
    stderr = interrupted(process, within=120)
    assert "KeyboardInterrupt" in stderr and "job aborted, nothing published" in stderr
    settled(boto, bucket, key)
    listed = boto.list_objects_v2(Bucket=bucket, Prefix=f"{key}/").get("Contents", [])
    assert listed == []  # no data file and no _SUCCESS
    uploads = boto.list_multipart_uploads(Bucket=bucket, Prefix=f"{key}/").get("Uploads", [])
    assert uploads == []


def test_ctrl_c_stops_a_workers_upload_parts_and_says_the_upload_stays(proxy, storage_options,
                                                                       boto, bucket, key):
    so = slowed(proxy, storage_options, "UploadPart")
    process = child("UploadHandle.upload_parts", f"mpu://{bucket}/{key}", so)
    upload_id = line_starting(process, "handle").split()[1]
    wait_until(lambda: proxy.seen.count("UploadPart") >= 2, timeout=60)
    stderr = interrupted(process)
    assert "KeyboardInterrupt" in stderr and f"stay in upload {upload_id}" in stderr
    settled(boto, bucket, key)
    sent = proxy.seen.count("UploadPart")
    assert sent < 12  # stopped: the parts not yet started were never sent
    # the upload stays for the process that started it, which completes or aborts it
    [left] = incomplete_uploads(boto, bucket, key)
    assert left["UploadId"] == upload_id
    boto.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


def test_an_interrupt_during_complete_lets_it_finish_and_says_it_was_published(
        tmp_path, proxy, storage_options, boto, bucket, key):
    """A Complete already on its way is not cut off (it could still take effect after the
    caller saw the interrupt): it is let finish, and the note says the object is published."""
    data = os.urandom(2 * PART + 10)
    path = tmp_path / "two-parts.bin"
    path.write_bytes(data)
    fs = proxied_fs(proxy, slowed(proxy, storage_options, "CompleteMultipartUpload"))

    notes = cancelled_notes(fs, fs._upload_file(str(path), f"{bucket}/{key}", part_size=PART),
                            lambda: "CompleteMultipartUpload" in proxy.seen)
    assert any("was published before the interruption took effect" in n for n in notes), notes
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    assert incomplete_uploads(boto, bucket, key) == []


#: a parent that ignores SIGINT, as a runner started with ``&`` from a script does, and its
#: child (an exec keeps the ignored disposition)
IGNORING_SIGINT = ["sh", "-c", 'trap "" INT; exec "$@"', "sh"]
SLEEPER = ["-c", "import time; print('ready', flush=True); time.sleep(60)"]


def test_a_child_of_a_runner_ignoring_sigint_still_gets_its_keyboardinterrupt():
    """The helper every SIGINT-sending test starts its children with (``with_sigint``)
    restores SIGINT in the child; without it, the child ignores the SIGINT (and a Ctrl-C
    test would fail with an empty stderr)."""
    restored = subprocess.Popen([*IGNORING_SIGINT, *with_sigint([sys.executable, *SLEEPER])],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line_starting(restored, "ready")
    stderr = interrupted(restored, within=20)
    assert restored.returncode == -signal.SIGINT and "KeyboardInterrupt" in stderr, stderr

    ignoring = subprocess.Popen([*IGNORING_SIGINT, sys.executable, *SLEEPER],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line_starting(ignoring, "ready")
    ignoring.send_signal(signal.SIGINT)
    with pytest.raises(subprocess.TimeoutExpired):  # the control: the SIGINT did nothing
        ignoring.wait(timeout=3)
    ignoring.kill()
    ignoring.communicate(timeout=30)
