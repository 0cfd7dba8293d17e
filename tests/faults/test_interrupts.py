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
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any, Callable, Coroutine

import pytest
from helpers import incomplete_uploads, object_exists, proxied_fs, wait_until

from mpu_toolkit._plan.sizing import MiB

PART = 5 * MiB
SLOW = 0.4  # seconds each slowed request takes at the proxy

pytestmark = pytest.mark.slow

#: a child that runs one blocking entry point and prints a line per finished part
CHILD = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np, pandas as pd
    import mpu_toolkit
    from mpu_toolkit import uploads

    what, url, so, arg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]

    def progress(event):
        if event.parts_done:
            print("part", event.parts_done, flush=True)

    options = dict(storage_options=so, part_size="5MiB", concurrency=2, progress=progress)
    if what == "upload_file":
        mpu_toolkit.upload_file(arg, url, **options)
    elif what == "upload_file-resume":
        mpu_toolkit.upload_file(arg, url, resume=True, **options)
    elif what == "compose":
        mpu_toolkit.compose(json.loads(arg), url, copy_cutoff=0, **options)
    elif what == "write_parquet":
        def frames():
            rng = np.random.default_rng(1)
            while True:
                yield pd.DataFrame({"x": rng.normal(size=400_000)})
        mpu_toolkit.write_parquet(frames(), url, row_group_size=400_000, **options)
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
    return subprocess.Popen([sys.executable, "-c", CHILD, what, url, json.dumps(so), arg],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def interrupt_after_parts(process: subprocess.Popen[str], parts: int = 1) -> str:
    """SIGINT once ``parts`` parts are done; the child's stderr once it has exited."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("part") and int(line.split()[1]) >= parts:
            process.send_signal(signal.SIGINT)
            break
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0, stderr
    return stderr


def slowed(proxy: Any, storage_options: dict[str, Any], *requests: str) -> dict[str, Any]:
    for request in requests:
        proxy.fail(request, "delay", times=10_000, seconds=SLOW)
    return {**storage_options, "endpoint_url": proxy.endpoint_url}


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


def settled(boto: Any, bucket: str, key: str, seconds: float = 3 * SLOW + 1) -> None:
    """Long enough for any request still on its way to have landed."""
    time.sleep(seconds)


@pytest.mark.parametrize("resume", [False, True])
def test_ctrl_c_stops_upload_file(resume, tmp_path, proxy, storage_options, boto, bucket, key):
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(12 * PART))
    so = slowed(proxy, storage_options, "UploadPart")
    stderr = interrupt_after_parts(child("upload_file-resume" if resume else "upload_file",
                                         f"mpu://{bucket}/{key}", so, str(path)))
    assert "KeyboardInterrupt" in stderr
    settled(boto, bucket, key)
    assert not object_exists(boto, bucket, key)
    left = incomplete_uploads(boto, bucket, key)
    if resume:  # kept, and named with the command that finishes it
        [upload] = left
        assert f"mpu put --resume --upload-id {upload['UploadId']}" in stderr
        boto.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
    else:
        assert left == [] and "aborted, nothing published" in stderr
    assert proxy.seen.count("UploadPart") < 12  # it stopped: not every part was sent


def test_ctrl_c_stops_compose(proxy, storage_options, boto, bucket, key):
    sources = []
    for i in range(6):
        boto.put_object(Bucket=bucket, Key=f"{key}.{i}", Body=os.urandom(PART + i))
        sources.append(f"mpu://{bucket}/{key}.{i}")
    so = slowed(proxy, storage_options, "UploadPartCopy")
    stderr = interrupt_after_parts(child("compose", f"mpu://{bucket}/{key}", so,
                                         json.dumps(sources)))
    assert "KeyboardInterrupt" in stderr and "aborted, nothing published" in stderr
    settled(boto, bucket, key)
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_ctrl_c_stops_write_parquet(proxy, storage_options, boto, bucket, key):
    so = slowed(proxy, storage_options, "UploadPart")
    stderr = interrupt_after_parts(child("write_parquet", f"mpu://{bucket}/{key}", so))
    assert "KeyboardInterrupt" in stderr and "aborted, nothing published" in stderr
    settled(boto, bucket, key)
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_ctrl_c_stops_an_abort_batch_and_says_how_far_it_got(proxy, storage_options, boto,
                                                             bucket, key):
    ids = [boto.create_multipart_upload(Bucket=bucket, Key=f"{key}/{i}")["UploadId"]
           for i in range(8)]
    so = slowed(proxy, storage_options, "AbortMultipartUpload")
    process = child("uploads.abort", f"mpu://{bucket}/{key}/", so)
    # one abort done, the next in flight (each takes SLOW at the proxy)
    wait_until(lambda: proxy.seen.count("AbortMultipartUpload") >= 2, timeout=60)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert "KeyboardInterrupt" in stderr and "the others are untouched" in stderr
    settled(boto, bucket, key)
    left = [u for i in range(8) for u in incomplete_uploads(boto, bucket, f"{key}/{i}")]
    assert 0 < len(left) < len(ids)  # it stopped part-way; the rest are still there
    for u in left:
        boto.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])


def test_ctrl_c_stops_mpu_put_with_exit_130(tmp_path, proxy, storage_options, boto, bucket,
                                            key, mpu):
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(12 * PART))
    slowed(proxy, storage_options, "UploadPart")
    process = subprocess.Popen([mpu.executable, "put", "--part-size", "5MiB",
                                "--concurrency", "2", str(path), f"mpu://{bucket}/{key}",
                                "--endpoint-url", proxy.endpoint_url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=mpu.env)
    wait_until(lambda: proxy.seen.count("UploadPart") >= 3, timeout=60)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "mpu: interrupted" in stderr and "aborted, nothing published" in stderr
    assert "Traceback" not in stderr
    settled(boto, bucket, key)
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_cancelling_the_coroutine_aborts(tmp_path, proxy, storage_options, boto, bucket, key):
    """asyncio callers: cancelling the task of fs._upload_file stops it the same way."""
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(8 * PART))
    fs = proxied_fs(proxy, slowed(proxy, storage_options, "UploadPart"))

    notes = cancelled_notes(fs, fs._upload_file(str(path), f"{bucket}/{key}", part_size=PART,
                                                concurrency=2),
                            lambda: proxy.seen.count("UploadPart") >= 2)
    assert any("aborted, nothing published" in n for n in notes)
    settled(boto, bucket, key)
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_jupyter_interrupt_stops_upload_file(tmp_path, proxy, storage_options, boto, bucket,
                                            key):
    """The "Interrupt kernel" button, through a real kernel (what nbclient drives)."""
    from jupyter_client.manager import start_new_kernel

    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(12 * PART))
    so = slowed(proxy, storage_options, "UploadPart")
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        code = textwrap.dedent(f"""
            import mpu_toolkit
            try:
                mpu_toolkit.upload_file({str(path)!r}, 'mpu://{bucket}/{key}',
                                        storage_options={so!r}, part_size='5MiB',
                                        concurrency=2)
            except KeyboardInterrupt as interrupt:
                print("NOTES", interrupt.__notes__)
                raise
        """)
        msg_id = client.execute(code)
        wait_until(lambda: proxy.seen.count("UploadPart") >= 3, timeout=60)
        manager.interrupt_kernel()
        printed, status = "", None
        while status != "idle":
            message = client.get_iopub_msg(timeout=60)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "stream":
                printed += message["content"]["text"]
            elif message["msg_type"] == "error":
                assert message["content"]["ename"] == "KeyboardInterrupt"
            elif message["msg_type"] == "status":
                status = message["content"]["execution_state"]
        assert "NOTES" in printed and "aborted, nothing published" in printed
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    settled(boto, bucket, key)
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_ctrl_c_stops_to_single_object(proxy, storage_options, boto, bucket, key):
    so = slowed(proxy, storage_options, "UploadPart")
    process = child("to_single_object", f"mpu://{bucket}/{key}.csv", so)
    wait_until(lambda: proxy.seen.count("UploadPart") >= 2, timeout=120)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert "KeyboardInterrupt" in stderr and "aborted, nothing published" in stderr
    settled(boto, bucket, f"{key}.csv")
    assert not object_exists(boto, bucket, f"{key}.csv")
    assert incomplete_uploads(boto, bucket, f"{key}.csv") == []


def test_ctrl_c_stops_to_dataset_and_leaves_nothing_under_the_prefix(proxy, storage_options,
                                                                     boto, bucket, key):
    so = slowed(proxy, storage_options, "UploadPart")
    process = child("to_dataset", f"mpu://{bucket}/{key}/", so)
    wait_until(lambda: proxy.seen.count("UploadPart") >= 2, timeout=120)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
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
    assert process.stdout is not None
    upload_id = process.stdout.readline().split()[1]
    wait_until(lambda: proxy.seen.count("UploadPart") >= 2, timeout=60)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
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
