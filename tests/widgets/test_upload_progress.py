"""UploadProgress (the notebook view of a write) and how ``progress=`` chooses a display."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from mpu_toolkit import ConfigurationError, open_writer, progress as progress_module
from mpu_toolkit._plan.sizing import format_size
from mpu_toolkit.progress import ProgressEvent, TqdmProgress, make_progress
from mpu_toolkit.widgets.upload_progress import UploadProgress, format_duration, object_href

from helpers import incomplete_uploads, object_exists

MiB = 1024 * 1024


def event(**fields: Any) -> ProgressEvent:
    base = dict(url="mpu://b/k", state="writing", bytes_written=0, bytes_uploaded=0,
                parts_done=0, parts_in_flight=0, elapsed=1.0)
    return ProgressEvent(**{**base, **fields})  # type: ignore[arg-type]


def shown(widget: Any) -> bool:
    return widget.layout.display != "none"


# -- synthetic events -------------------------------------------------------------------------
def test_css_classes_are_stable() -> None:
    view = UploadProgress("b/k")
    assert "mpu-progress" in view._dom_classes
    assert "mpu-progress-bar" in view.bar._dom_classes
    assert "mpu-progress-status" in view.status._dom_classes
    assert "mpu-progress-stats" in view.stats._dom_classes
    assert "mpu-progress-memory" in view.memory._dom_classes
    assert "mpu-progress-object" in view.object._dom_classes


def test_known_total_shows_percentage_and_eta() -> None:
    view = UploadProgress("b/k", total=100 * MiB)
    assert shown(view.bar) and view.bar.max == 100 * MiB
    view(event(bytes_written=40 * MiB, bytes_uploaded=25 * MiB, parts_done=5,
               parts_in_flight=3, elapsed=5.0, total=100 * MiB))
    assert view.bar.value == 25 * MiB and view.bar.max == 100 * MiB
    assert view.percent.value == "25%" and shown(view.percent)
    assert view.uploaded.value == "25 MiB / 100 MiB"
    assert view.parts.value == "5 parts done, 3 in flight"
    assert view.rate.value == "5.2 MB/s"  # 25 MiB in 5 s
    assert view.elapsed.value == "elapsed 0:05"
    assert view.eta.value == "ETA 0:15" and shown(view.eta)  # 75 MiB left at 5 MiB/s
    assert view.status.value == "writing"
    assert not shown(view.rows)


def test_unknown_total_has_no_bar_and_no_eta() -> None:
    view = UploadProgress("b/k")
    view(event(bytes_uploaded=3 * MiB, parts_done=1, parts_in_flight=2, elapsed=2.0))
    assert not shown(view.bar) and not shown(view.percent)
    assert view.eta.value == "" and not shown(view.eta)
    assert view.uploaded.value == "3 MiB uploaded"
    assert view.parts.value == "1 part done, 2 in flight"


def test_rows_appear_when_present() -> None:
    view = UploadProgress("b/k")
    view(event(rows=1_234_567))
    assert view.rows.value == "1,234,567 rows" and shown(view.rows)


def test_completed_is_green_with_etag() -> None:
    view = UploadProgress("b/k")
    view(event(bytes_uploaded=10, parts_done=1))
    view(event(state="completed", bytes_uploaded=12 * MiB, parts_done=3, etag='"abc-3"',
               elapsed=3.0))
    assert view.bar.bar_style == "success" and shown(view.bar)
    assert view.bar.value == view.bar.max
    assert "completed — 12 MiB, ETag &quot;abc-3&quot;" in view.status.value
    assert view.parts.value == "3 parts done, 0 in flight"
    assert not shown(view.eta)
    assert view.state == "completed"


def test_memory_in_use_and_its_peak_while_writing_then_the_peak() -> None:
    view = UploadProgress("b/k")
    view(event(parts_done=0))
    assert not shown(view.memory)  # nothing held yet (a planned copy never holds any)
    view(event(parts_in_flight=2, memory_in_use=24 * MiB))
    assert view.memory.value == "memory 24 MiB (peak 24 MiB)" and shown(view.memory)
    view(event(parts_in_flight=1, memory_in_use=10 * MiB))
    assert view.memory.value == "memory 10 MiB (peak 24 MiB)"
    view(event(state="completed", parts_done=3, memory_in_use=0, etag="E"))
    assert view.memory.value == "peak memory 24 MiB" and shown(view.memory)
    view(event(state="writing", memory_in_use=30 * MiB))  # late: the outcome stands
    assert view.memory.value == "peak memory 24 MiB"


def test_completed_links_the_object_without_credentials() -> None:
    endpoint = "http://AKID:SECRET@127.0.0.1:9000/?X-Amz-Credential=AKID#frag"
    view = UploadProgress("mpu://b/dir/a b.bin", endpoint_url=endpoint)
    view(event(url="mpu://b/dir/a b.bin", memory_in_use=5 * MiB))
    assert not shown(view.object) and view.object.value == ""  # not before the end
    view(event(state="completed", url="mpu://b/dir/a b.bin", bytes_uploaded=7 * MiB,
               etag='"e-2"'))
    assert shown(view.object)
    assert '<code style="user-select:all"' in view.object.value
    assert ">mpu://b/dir/a b.bin</code>" in view.object.value
    assert '<a href="http://127.0.0.1:9000/b/dir/a%20b.bin" target="_blank"' in view.object.value
    everything = view.object.value + view.status.value + view.title.value
    for secret in ("AKID", "SECRET", "X-Amz", "frag"):
        assert secret not in everything


@pytest.mark.parametrize("endpoint", [None, "", "ftp://host/", "javascript:alert(1)",
                                      "http://host:port"])
def test_no_link_without_a_plain_http_endpoint(endpoint: Any) -> None:
    view = UploadProgress("s3://b/k", endpoint_url=endpoint)
    view(event(state="completed", url="s3://b/k", etag="E"))
    assert view.object.value == '<code style="user-select:all" title="the object (click to ' \
        'select)">s3://b/k</code>'
    assert "<a " not in view.object.value


@pytest.mark.parametrize("state", ["aborted", "failed", "kept"])
def test_no_object_line_unless_completed(state: str) -> None:
    view = UploadProgress("b/k", endpoint_url="http://127.0.0.1:9000")
    view(event(state=state, error="boom", upload_id="U"))
    assert not shown(view.object) and view.object.value == ""


def test_object_href_quotes_bucket_and_key() -> None:
    assert object_href("https://h", "s3a://bkt/x/?#%.csv") == "https://h/bkt/x/%3F%23%25.csv"
    assert object_href("https://h", "mpu://bkt") is None
    assert object_href(None, "mpu://bkt/k") is None


@pytest.mark.parametrize("state", ["aborted", "failed"])
def test_failure_is_red_with_reason(state: str) -> None:
    view = UploadProgress("b/k", total=100)
    view(event(state=state, bytes_uploaded=40, total=100, error="boom <b>bad</b>"))
    assert view.bar.bar_style == "danger" and view.bar.value == 40
    assert f"{state} — boom &lt;b&gt;bad&lt;/b&gt;" in view.status.value
    assert not shown(view.eta)


def test_kept_shows_upload_id() -> None:
    view = UploadProgress("b/k")
    view(event(state="kept", upload_id="UP-1", error="producer failed"))
    assert "kept for resume — upload id UP-1" in view.status.value
    assert view.bar.bar_style == "warning"


def test_late_events_do_not_undo_the_outcome() -> None:
    """The I/O thread's part event can arrive after the producer's final event."""
    view = UploadProgress("b/k")
    view(event(state="completed", bytes_uploaded=30, parts_done=3, etag="E"))
    view(event(state="writing", bytes_uploaded=20, parts_done=2, parts_in_flight=1))
    assert "completed" in view.status.value and view.parts.value == "3 parts done, 0 in flight"


def test_kept_is_not_replaced_by_a_late_failed_snapshot() -> None:
    view = UploadProgress("b/k")
    view(event(state="failed", parts_done=1, error="p"))  # I/O thread, while keeping
    view(event(state="kept", parts_done=2, upload_id="UP", error="p"))
    view(event(state="failed", parts_done=2, error="p"))  # delivered late
    assert view.state == "kept" and "upload id UP" in view.status.value


def test_out_of_order_snapshots_never_go_back() -> None:
    view = UploadProgress("b/k", total=100)
    view(event(bytes_uploaded=60, parts_done=6, total=100))
    view(event(bytes_uploaded=50, parts_done=5, total=100))
    assert view.bar.value == 60 and view.parts.value.startswith("6 parts")


def test_events_from_four_threads() -> None:
    view = UploadProgress("b/k", total=50_000)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def feed(thread: int) -> None:
        try:
            start.wait()
            for i in range(1, 251):
                view(event(bytes_uploaded=thread * 10 + i * 160, parts_done=i,
                           parts_in_flight=thread, total=50_000, rows=i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=feed, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert view.bar.value == 3 * 10 + 250 * 160  # the largest snapshot wins
    assert view.parts.value.startswith("250 parts done")
    assert view.rows.value == "250 rows"
    view(event(state="completed", bytes_uploaded=50_000, parts_done=251, total=50_000,
               etag="E"))
    assert view.bar.bar_style == "success" and view.percent.value == "100%"


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0, 7.4, 754, 3723)] == ["0:00", "0:07", "12:34",
                                                                  "1:02:03"]


# -- progress= : "tqdm", "widget", True (auto), a callable -----------------------------------
def test_progress_true_is_tqdm_outside_a_kernel() -> None:
    assert not progress_module.in_kernel()
    bar = make_progress(True, "b/k", 10)
    assert isinstance(bar, TqdmProgress)
    bar._bar.close()


def test_progress_true_is_the_widget_inside_a_kernel_whatever_was_imported(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    displayed: list[Any] = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: displayed.append(obj))
    monkeypatch.setattr(progress_module, "in_kernel", lambda: True)
    view = make_progress(True, "b/k", 123)
    assert isinstance(view, UploadProgress) and displayed == [view]


def test_progress_names_choose_the_display_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj: None)
    assert isinstance(make_progress("widget", "b/k", None), UploadProgress)  # in a terminal too
    bar = make_progress("tqdm", "b/k", None)
    assert isinstance(bar, TqdmProgress)
    bar._bar.close()
    callback = print
    assert make_progress(callback, "b/k", None) is callback  # a callable is used as is
    assert make_progress(False, "b/k", None) is None and make_progress(None, "b/k", 1) is None
    with pytest.raises(ConfigurationError, match="'tqdm', 'widget'"):
        make_progress("bar", "b/k", None)


def test_a_broken_widget_display_falls_back_to_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "in_kernel", lambda: True)

    def broken(desc: str, total: int | None) -> Any:
        raise RuntimeError("no frontend")

    monkeypatch.setattr(progress_module, "_display", lambda name: broken)
    bar = make_progress(True, "b/k", None)
    assert isinstance(bar, TqdmProgress)
    bar._bar.close()


def test_in_kernel_detects_a_shell_with_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython

    class Shell:
        kernel = object()

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    assert progress_module.in_kernel()
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())  # a terminal IPython
    assert not progress_module.in_kernel()


# -- real writes against the session server ---------------------------------------------------
class Recording(UploadProgress):
    """The view, plus the events it was given (to compare with what it shows)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events: list[ProgressEvent] = []

    def __call__(self, event: ProgressEvent) -> None:
        self.events.append(event)
        super().__call__(event)


def test_real_write_completes(bucket: str, key: str, storage_options: dict[str, Any],
                              boto: Any) -> None:
    view = Recording(key, endpoint_url=storage_options["endpoint_url"])
    chunk = b"x" * MiB
    with open_writer(f"mpu://{bucket}/{key}", storage_options=storage_options,
                     part_size="5MiB", concurrency=2, progress=view) as f:
        for _ in range(12):
            f.write(chunk)
    assert f.result is not None
    assert view.state == "completed" and view.bar.bar_style == "success"
    assert view.uploaded.value == "12 MiB uploaded"
    assert view.parts.value == "3 parts done, 0 in flight"
    assert f"12 MiB, ETag {f.result.etag}" in view.status.value.replace("&quot;", '"')
    assert any(e.state == "writing" and e.parts_done for e in view.events)
    assert object_exists(boto, bucket, key)
    # memory: the writer held part buffers (at least the one filling), freed at the end
    peak = max(e.memory_in_use for e in view.events)
    assert peak >= 5 * MiB and view.events[-1].memory_in_use == 0
    assert view.memory.value == f"peak memory {format_size(peak)}"
    # the link is the object's plain path-style URL on the endpoint, with no credential
    href = storage_options["endpoint_url"].rstrip("/") + f"/{bucket}/{key}"
    assert f">mpu://{bucket}/{key}</code>" in view.object.value
    assert f'href="{href}"' in view.object.value
    for secret in (storage_options["key"], storage_options["secret"]):
        assert secret not in view.object.value + view.status.value
    head = boto.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == 12 * MiB


def test_real_write_with_known_size_has_eta(bucket: str, key: str,
                                            storage_options: dict[str, Any]) -> None:
    view = Recording(key)
    size = 11 * MiB
    with open_writer(f"mpu://{bucket}/{key}", storage_options=storage_options,
                     part_size="5MiB", size=size, progress=view) as f:
        for _ in range(11):
            f.write(b"y" * MiB)
    assert view.bar.max == size and view.bar.value == size and view.percent.value == "100%"
    assert view.bar.bar_style == "success"
    assert any(e.total == size for e in view.events)


def test_real_write_failure_is_red(bucket: str, key: str, storage_options: dict[str, Any],
                                   boto: Any) -> None:
    view = Recording(key)
    with pytest.raises(ValueError):
        with open_writer(f"mpu://{bucket}/{key}", storage_options=storage_options,
                         part_size="5MiB", progress=view) as f:
            f.write(b"z" * (11 * MiB))
            raise ValueError("producer broke")
    assert view.state in ("aborted", "failed") and view.bar.bar_style == "danger"
    assert view.status.value.count("—") == 1 and "producer" in view.status.value
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_real_write_kept_for_resume(bucket: str, key: str, storage_options: dict[str, Any],
                                    boto: Any) -> None:
    view = Recording(key)
    with pytest.raises(ValueError):
        with open_writer(f"mpu://{bucket}/{key}", storage_options=storage_options,
                         part_size="5MiB", keep_parts_on_error=True, progress=view) as f:
            f.write(b"k" * (11 * MiB))
            raise ValueError("producer broke")
    try:
        assert view.state == "kept" and view.bar.bar_style == "warning"
        assert f"upload id {f.upload_id}" in view.status.value
    finally:
        for upload in incomplete_uploads(boto, bucket, key):
            boto.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])


def test_real_write_parquet_shows_rows(bucket: str, key: str,
                                       storage_options: dict[str, Any]) -> None:
    import pandas as pd

    from mpu_toolkit import write_parquet

    view = Recording(key)
    frames = (pd.DataFrame({"a": range(i * 1000, (i + 1) * 1000)}) for i in range(5))
    result = write_parquet(frames, f"mpu://{bucket}/{key}.parquet",
                           storage_options=storage_options, progress=view)
    assert result.rows == 5000
    assert view.rows.value == "5,000 rows" and view.state == "completed"
    assert view.events[-1].rows == 5000


def output_of_python(code: str) -> str:
    """What ``code`` prints in a fresh interpreter (nothing imported yet)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout


def test_the_library_does_not_import_the_widgets_layer() -> None:
    code = ("import sys, mpu_toolkit, mpu_toolkit.progress, mpu_toolkit.fs\n"
            "from mpu_toolkit.progress import make_progress\n"
            "make_progress(True, 'b/k', None)._bar.close()\n"
            "make_progress('tqdm', 'b/k', None)._bar.close()\n"
            "print(sorted(m for m in sys.modules if m.startswith(('ipywidgets', "
            "'mpu_toolkit.widgets', 'IPython'))))")
    out = output_of_python(code)
    assert out.strip() == "[]"


def test_without_the_notebook_extra_progress_falls_back_and_widgets_say_what_to_install():
    """ipywidgets is the `notebook` extra: a batch job or a Dask worker runs without it."""
    code = ("import sys; sys.modules['ipywidgets'] = None  # as if not installed\n"
            "from mpu_toolkit.progress import TqdmProgress, make_progress\n"
            "from mpu_toolkit import progress\n"
            "progress.in_kernel = lambda: True\n"
            "bar = make_progress(True, 'b/k', None); assert isinstance(bar, TqdmProgress)\n"
            "bar._bar.close()\n"
            "try:\n    make_progress('widget', 'b/k', None)\n"
            "except Exception as e:\n    print('WIDGET', e)\n"
            "try:\n    import mpu_toolkit.widgets\n"
            "except ImportError as e:\n    print('IMPORT', e)\n")
    out = output_of_python(code)
    assert "WIDGET progress='widget' needs the notebook widgets: pip install " in out
    assert "IMPORT mpu_toolkit.widgets needs ipywidgets: pip install 'mpu_toolkit[notebook]'" in out
