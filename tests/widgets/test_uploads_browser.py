"""UploadsBrowser driven from Python against the real server; server state checked with boto."""

from __future__ import annotations

import json
import logging
import socket
import uuid
from typing import Any, Iterator

import pandas as pd
import pytest
import ipywidgets as widgets
from helpers import incomplete_uploads, proxied_fs, wait_until

from mpu_toolkit.widgets.html_table import size_text as table_size
from table_messages import Recorded, from_browser

from mpu_toolkit import MPUFileSystem
from mpu_toolkit.testing.quirks import QuirkProxy
from mpu_toolkit.widgets import UploadsBrowser


def start(boto: Any, bucket: str, key: str, part_sizes: list[int]) -> str:
    upload_id = boto.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    for number, size in enumerate(part_sizes, start=1):
        boto.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                         Body=bytes([number]) * size)
    return upload_id


def alive(boto: Any, bucket: str, key: str) -> set[str]:
    return {u["UploadId"] for u in incomplete_uploads(boto, bucket, key)}


@pytest.fixture
def browsers() -> Iterator[list[UploadsBrowser]]:
    made: list[UploadsBrowser] = []
    yield made
    for browser in made:
        browser.wait()
        browser.close()


@pytest.fixture
def open_browser(browsers: list[UploadsBrowser], fs: MPUFileSystem, bucket: str, key: str):
    def make(**kw: Any) -> UploadsBrowser:
        kw.setdefault("fs", fs)
        browser = UploadsBrowser(kw.pop("urls", f"mpu://{bucket}/{key}/"), **kw)
        browsers.append(browser)
        browser.wait()
        assert not browser.busy
        return browser
    return make


def all_widgets(root: widgets.Widget) -> list[widgets.Widget]:
    found, todo = [], [root]
    while todo:
        w = todo.pop()
        found.append(w)
        todo += list(getattr(w, "children", ()))
    return found


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_table_summary_and_human_sizes(open_browser, boto, bucket, key):
    ids = {start(boto, bucket, f"{key}/a&b<c>.bin", [1024, 512]): 1536,
           start(boto, bucket, f"{key}/plain", [3 * 1024 * 1024]): 3 * 1024 * 1024,
           start(boto, bucket, f"{key}/empty", []): 0}
    browser = open_browser()
    assert sorted(browser.frame["upload_id"]) == sorted(ids)
    shown = browser.table.frame  # what the table holds (and sent to the browser)
    assert dict(zip(shown["upload_id"], shown["bytes"])) == ids
    assert f"{key}/a&b<c>.bin" in set(shown["key"])  # the browser sets it as text, not HTML
    total = 1024 + 512 + 3 * 1024 * 1024
    assert f"({total:,} bytes) held by <b>3</b> incomplete uploads" in browser.summary.value
    assert bucket in browser.summary.value and "mpu-bar" in browser.summary.value
    assert browser.status.value == "" and not browser.refresh_button.disabled
    space = browser.space.value  # the pictures of where the bytes are, with their words
    assert space.count('role="img"') == 4 and "a&amp;b&lt;c&gt;.bin" not in space
    assert table_size(total) in space  # the total, in the pictures' words
    assert "done: 3 uploads listed, 3 sized" in browser.progress.value


def test_an_exact_key_store_is_named_in_the_status(open_browser, server, boto, bucket, key):
    """MinIO (emulated): the uploads of the objects' keys are listed, and the status says
    that uploads of keys with no object are not seen, rather than showing an empty table
    as if nothing were held."""
    boto.put_object(Bucket=bucket, Key=f"{key}/a", Body=b"object")
    seen = start(boto, bucket, f"{key}/a", [10])
    start(boto, bucket, f"{key}/no-object", [10])
    so = server.storage_options
    with QuirkProxy(server.endpoint_url, ["exact_key_listing"],
                    credentials=(so["key"], so["secret"])) as proxy:
        browser = open_browser(fs=MPUFileSystem(**{**so, "endpoint_url": proxy.endpoint_url},
                                                provider="minio", skip_instance_cache=True))
        assert list(browser.frame["upload_id"]) == [seen]
        assert "only by their exact key" in browser.status.value
        assert "not seen" in browser.status.value


def test_refresh_keeps_the_selection_where_the_uploads_still_exist(open_browser, boto, bucket,
                                                                   key):
    ids = [start(boto, bucket, f"{key}/k{i}", [10 * (i + 1)]) for i in range(3)]
    browser = open_browser()
    browser.table.selection = ids[:2]
    assert sorted(browser.selected["upload_id"]) == sorted(ids[:2])
    boto.abort_multipart_upload(Bucket=bucket, Key=f"{key}/k0", UploadId=ids[0])  # elsewhere
    newer = start(boto, bucket, f"{key}/k9", [5])
    browser.refresh_button.click()
    browser.wait()
    assert sorted(browser.table.frame["upload_id"]) == sorted(ids[1:] + [newer])
    assert browser.table.selection == [ids[1]]


def test_uploads_of_several_buckets_in_one_table(open_browser, boto, bucket, key):
    other = f"mpu-test-{uuid.uuid4().hex[:10]}"
    boto.create_bucket(Bucket=other)
    try:
        mine, theirs = start(boto, bucket, f"{key}/a", [10]), start(boto, other, f"{key}/a", [20])
        browser = open_browser(urls=[f"mpu://{bucket}/{key}/", f"mpu://{other}/{key}/"])
        shown = browser.table.frame
        assert dict(zip(shown["upload_id"], shown["bucket"])) == {mine: bucket, theirs: other}
        assert "held by <b>2</b>" in browser.summary.value
        browser.table.selection = [theirs]
        assert list(browser.selected["bucket"]) == [other]
    finally:
        boto.abort_multipart_upload(Bucket=other, Key=f"{key}/a", UploadId=theirs)
        boto.delete_bucket(Bucket=other)


def test_abort_selected_after_confirmation_really_aborts(open_browser, boto, bucket, key):
    ids = [start(boto, bucket, f"{key}/k", [1000 * (i + 1)]) for i in range(3)]
    browser = open_browser(min_age=None)
    browser.table.selection = ids[:2]
    browser.abort_button.click()
    assert browser.confirm_box.layout.display != "none"
    assert "Abort 2 uploads" in browser.confirm_message.value
    assert "2.9 KiB (3,000 bytes)" in browser.confirm_message.value
    assert f"Oldest: {bucket}/{key}/k (" in browser.confirm_message.value  # and youngest
    assert "; youngest: " in browser.confirm_message.value
    assert alive(boto, bucket, f"{key}/k") == set(ids)  # nothing before Confirm
    browser.confirm_button.click()
    browser.wait()
    assert alive(boto, bucket, f"{key}/k") == {ids[2]}
    assert browser.result_html.value.count(">aborted<") == 2
    assert list(browser.frame["upload_id"]) == [ids[2]]  # listing refreshed
    assert browser.selected.empty and "2 aborted, 0 failed" in browser.status.value
    assert "re-checked on the server: 2 of 2 gone" in browser.status.value
    assert table_size(3000) in browser.space.value  # the pictures show what is left
    assert table_size(6000) not in browser.space.value
    assert browser.confirm_box.layout.display == "none" and not browser.abort_button.disabled
    assert browser.table.marks == {} and not browser.recheck_button.disabled
    boto.upload_part(Bucket=bucket, Key=f"{key}/k", UploadId=ids[2], PartNumber=2, Body=b"x")
    browser.recheck_button.click()  # lists again, on the server; sees the new part too
    browser.wait()
    assert "re-checked on the server: 2 of 2 gone" in browser.status.value
    assert list(browser.frame["bytes"]) == [3001]


def test_cancel_aborts_nothing(open_browser, boto, bucket, key):
    ids = {start(boto, bucket, f"{key}/k", [10]) for _ in range(2)}
    browser = open_browser(min_age=None)
    browser.table.selection = list(ids)
    browser.abort_button.click()
    assert "Abort 2 uploads (selected)" in browser.confirm_message.value
    browser.cancel_button.click()
    browser.wait()
    assert browser.confirm_box.layout.display == "none"
    assert "nothing was aborted" in browser.status.value
    browser.confirm_button.click()  # a stale Confirm after Cancel does nothing either
    browser.wait()
    assert alive(boto, bucket, f"{key}/k") == ids and browser.result is None


def test_an_abort_failing_for_one_upload_marks_that_row_red_and_nothing_else(
        browsers, proxy, storage_options, boto, bucket, key):
    ids = {name: start(boto, bucket, f"{key}/{name}", [10]) for name in ("ok", "stuck")}
    proxy.fail("AbortMultipartUpload", "500", times=1000, path=f"/{key}/stuck")
    browser = UploadsBrowser(f"mpu://{bucket}/{key}/", fs=proxied_fs(proxy, storage_options),
                             min_age=None)
    browsers.append(browser)
    browser.wait()
    browser.table.selection = list(ids.values())
    browser.abort_button.click()
    browser.confirm_button.click()
    browser.wait(timeout=120)
    outcomes = dict(zip(browser.result["key"], browser.result["outcome"]))
    assert outcomes == {f"{key}/ok": "aborted", f"{key}/stuck": "failed"}
    (marked, reason), = browser.table.marks.items()
    assert marked == ids["stuck"] and "abort failed" in reason and "InternalError" in reason
    assert alive(boto, bucket, f"{key}/stuck") == {ids["stuck"]}
    assert not alive(boto, bucket, f"{key}/ok")
    assert list(browser.table.frame["upload_id"]) == [ids["stuck"]]  # the rest as it was
    assert browser.table.selection == [ids["stuck"]]  # still selected: try again later
    assert "1 aborted, 1 failed" in browser.status.value


def test_abort_older_than_days(open_browser, boto, bucket, key):
    ids = {start(boto, bucket, f"{key}/k", [10]) for _ in range(2)}
    browser = open_browser(min_age=None)
    browser.older_days.value = 100_000  # older than any upload on any server
    browser.abort_older_button.click()
    assert browser.confirm_box.layout.display == "none"
    assert "nothing to abort" in browser.status.value
    browser.older_days.value = 0
    browser.abort_older_button.click()
    assert "Abort 2 uploads (every upload listed older than 0 days)" in \
        browser.confirm_message.value
    browser.confirm_button.click()
    browser.wait()
    assert not alive(boto, bucket, f"{key}/k") and set(browser.result["upload_id"]) == ids


def test_min_age_protects_fresh_uploads_unless_forced(open_browser, boto, bucket, key):
    upload_id = start(boto, bucket, f"{key}/live", [10])
    browser = open_browser(min_age="1h")
    browser.table.selection = [upload_id]
    browser.abort_button.click()
    assert "Protected by min_age: 1 younger than 1h (10 B) will be skipped" in \
        browser.confirm_message.value
    browser.confirm_button.click()
    browser.wait()
    assert list(browser.result["outcome"]) == ["skipped"] and ">skipped<" in \
        browser.result_html.value
    assert alive(boto, bucket, f"{key}/live") == {upload_id}
    browser.force.value = True
    assert browser.table.selection == [upload_id]  # skipped: still there, still selected
    browser.abort_button.click()
    assert "Force is on" in browser.confirm_message.value
    browser.confirm_button.click()
    browser.wait()
    assert list(browser.result["outcome"]) == ["aborted"]
    assert not alive(boto, bucket, f"{key}/live")


def test_parts_open_under_their_row(open_browser, boto, bucket, key):
    upload_id = start(boto, bucket, f"{key}/p", [5, 6, 7])
    etags = [p["ETag"] for p in boto.list_parts(Bucket=bucket, Key=f"{key}/p",
                                                UploadId=upload_id)["Parts"]]
    browser = open_browser()
    sent = Recorded(browser.table)
    from_browser(browser.table, {"type": "parts", "upload_id": upload_id})  # the ▸ clicked
    wait_until(lambda: sent.custom("parts"), timeout=10)
    (answer,) = sent.custom("parts")
    assert answer["upload_id"] == upload_id and answer["error"] is None
    assert answer["columns"]["size"] == [5, 6, 7] and answer["columns"]["etag"] == etags
    assert list(browser.parts_frame["size"]) == [5, 6, 7]
    boto.abort_multipart_upload(Bucket=bucket, Key=f"{key}/p", UploadId=upload_id)
    browser.show_parts(upload_id).join(10)  # gone meanwhile: said under the row, plainly
    error = sent.custom("parts")[-1]["error"]
    assert error and "Traceback" not in error and "completed, aborted or expired" in error


def test_summary_shows_the_monthly_cost_at_the_given_price(open_browser, boto, bucket, key):
    start(boto, bucket, f"{key}/a", [5 << 20, 3 << 20])
    start(boto, bucket, f"{key}/b", [8 << 20])  # 16 MiB in all: 1/64 GiB
    assert "costing" not in open_browser().summary.value
    browser = open_browser(price="6.4")
    assert browser.price == 6.4
    expected = 'costing <b class="mpu-cost">0.10 a month</b> at 6.4 per GiB-month'
    assert expected in browser.summary.value
    assert "16 MiB in 2 uploads, 0.10 a month" in browser.summary.value  # the bucket's bar
    browser.share_button.click()
    browser.wait()
    assert expected in browser.summary.value and "of the bucket" in browser.summary.value


@pytest.mark.parametrize("price", [-0.5, float("inf"), "a lot"])
def test_a_bad_price_is_refused_before_any_request(storage_options, proxy, price):
    from mpu_toolkit import ConfigurationError

    with pytest.raises(ConfigurationError, match="price per GiB-month"):
        UploadsBrowser(None, {**storage_options, "endpoint_url": proxy.endpoint_url},
                       price=price)
    assert proxy.seen == []


def test_share_of_space(open_browser, boto, key):
    own = f"mpu-test-{uuid.uuid4().hex[:10]}"
    boto.create_bucket(Bucket=own)
    try:
        upload_id = start(boto, own, f"{key}/u", [1000])
        boto.put_object(Bucket=own, Key=f"{key}/done", Body=b"z" * 3000)
        browser = open_browser(urls=f"mpu://{own}/")
        assert "% of the bucket" not in browser.summary.value
        browser.share_button.click()
        browser.wait()
        assert "25.0% of the bucket&#x27;s space" in browser.summary.value
    finally:
        boto.abort_multipart_upload(Bucket=own, Key=f"{key}/u", UploadId=upload_id)
        boto.delete_object(Bucket=own, Key=f"{key}/done")
        boto.delete_bucket(Bucket=own)


def test_endpoint_down_is_shown_in_plain_words_and_widget_stays_usable(browsers,
                                                                       storage_options):
    bad = {**storage_options, "endpoint_url": f"http://127.0.0.1:{closed_port()}"}
    browser = UploadsBrowser(None, bad)
    browsers.append(browser)
    browser.wait()
    assert "cannot connect to http://127.0.0.1:" in browser.status.value
    assert "Traceback" not in browser.status.value and "color:#cf222e" in browser.status.value
    assert not browser.refresh_button.disabled and browser.busy_label.value == ""
    assert "not listed yet" in browser.summary.value  # no false "nothing held"
    browser.refresh_button.click()  # still usable: tries again, same plain message
    browser.wait()
    assert "cannot connect" in browser.status.value


def test_wrong_credentials_are_shown_in_plain_words(browsers, storage_options, server):
    if server.is_moto:
        pytest.skip("moto accepts any credentials; runs on RGW")
    browser = UploadsBrowser(None, {**storage_options, "secret": "wrong-secret-123"})
    browsers.append(browser)
    browser.wait()
    status = browser.status.value
    assert "failed" in status and "secret=" in status  # says what to do: fix the credentials
    assert "wrong-secret-123" not in status and "Traceback" not in status
    assert not browser.refresh_button.disabled


def test_no_secret_in_values_repr_state_or_logs(browsers, storage_options, boto, bucket, key,
                                                caplog):
    start(boto, bucket, f"{key}/s", [10])
    caplog.set_level(logging.DEBUG, logger="mpu_toolkit")
    good = UploadsBrowser(f"mpu://{bucket}/{key}/", storage_options, min_age=None)
    bad = UploadsBrowser(None, {**storage_options,
                                "endpoint_url": f"http://127.0.0.1:{closed_port()}"})
    browsers += [good, bad]
    for browser in (good, bad):
        browser.wait()
    sent = Recorded(good.table)
    from_browser(good.table, {"type": "ready"})  # a new view: every row travels again
    from_browser(good.table, {"type": "parts", "upload_id": good.frame["upload_id"][0]})
    wait_until(lambda: sent.custom("parts"), timeout=10)
    good.table.selection = list(good.frame["upload_id"])
    good.abort_button.click()
    good.confirm_button.click()
    good.wait()
    assert not alive(boto, bucket, f"{key}/s")
    secrets = [storage_options["key"], storage_options["secret"]]
    for browser in (good, bad):
        texts = [repr(browser), str(browser)]
        for w in all_widgets(browser):
            for name in ("value", "description", "tooltip", "placeholder", "options",
                         "marks"):
                texts.append(str(getattr(w, name, "")))
            texts.append(json.dumps(w.get_state(), default=str))
        if browser is good:
            texts.append(json.dumps(sent.messages, default=str))  # rows, parts, selection
        blob = "\n".join(texts)
        assert f"{key}/s<" in blob or "cannot connect" in blob  # the walk saw rendered HTML
        for secret in secrets:
            assert secret not in blob
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("mpu_toolkit"))
    assert "aborted" in ours  # the library logged the abort; botocore's own debug log (it
    assert not any(s in ours for s in secrets)  # names the access key id) is not ours
    assert storage_options["secret"] not in caplog.text
    assert "storage_options" not in repr(good) and repr(good).startswith("UploadsBrowser(")


def test_displays_as_a_vbox_with_stable_css_classes(open_browser):
    browser = open_browser()
    assert isinstance(browser, widgets.VBox)
    bundle = browser._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    classes = {c for w in all_widgets(browser) for c in getattr(w, "_dom_classes", ())}
    assert {"mpu-refresh", "mpu-stop", "mpu-abort", "mpu-confirm", "mpu-cancel",
            "mpu-summary", "mpu-status", "mpu-force", "mpu-share", "mpu-recheck",
            "mpu-space-pictures", "mpu-result"} <= classes
    assert browser.table in all_widgets(browser)  # the anywidget table, in the box


def test_a_hundred_thousand_uploads_travel_once_as_columns(open_browser):
    """A synthetic listing of 100,000 rows (no server needed): the kernel sends them once, in
    a few column chunks; a relisting with nothing new sends nothing; sorting and filtering
    are the browser's (measured by bench/table_bench.py, not timed here)."""
    from mpu_toolkit.inventory.listing import COLUMNS

    n = 100_000
    now = pd.Timestamp.now(tz="UTC")
    frame = pd.DataFrame({
        "bucket": [f"bucket-{i % 7}" for i in range(n)], "key": [f"k/{i:06d}" for i in range(n)],
        "upload_id": [f"id-{i:06d}" for i in range(n)],
        "initiated": [now - pd.Timedelta(minutes=i) for i in range(n)],
        "age": [pd.Timedelta(minutes=i) for i in range(n)], "storage_class": "STANDARD",
        "owner": "o", "initiator": "o", "parts": 1, "bytes": list(range(n)),
        "abort_date": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")}
    ).astype(COLUMNS)
    browser = open_browser(urls="mpu://no-such-prefix-listing-needed/", load=False)
    sent = Recorded(browser.table)
    browser._set_listing(frame, False)
    rows = sent.custom("rows")
    assert sum(len(m["columns"]["upload_id"]) for m in rows) == n and len(rows) <= 5
    assert len(json.dumps(rows)) < 12 * n * 8  # columns, not a dict per row
    sent.messages.clear()
    browser._set_listing(frame, True)
    assert sent.custom("rows") == [] and sent.custom("sizes") == []
    assert f"held by <b>{n:,}</b>" in browser.summary.value


def test_busy_state_while_the_background_work_runs(open_browser, monkeypatch):
    """Listing runs in a thread: buttons disabled and "working…" shown until it ends."""
    import threading

    from mpu_toolkit import uploads

    browser = open_browser()
    release, entered = threading.Event(), threading.Event()
    real_stream = uploads.stream

    def slow_stream(*args, **kwargs):
        entered.set()
        release.wait(10)
        return real_stream(*args, **kwargs)

    monkeypatch.setattr(uploads, "stream", slow_stream)
    browser.refresh_button.click()
    assert entered.wait(10) and browser.busy
    assert "working…" in browser.busy_label.value
    assert browser.abort_button.disabled and browser.refresh_button.disabled
    assert not browser.stop_button.disabled  # looking at the table, picking, stopping: on
    browser.refresh_button.click()  # ignored while busy, says so
    assert "busy" in browser.status.value
    release.set()
    browser.wait()
    assert not browser.busy and browser.busy_label.value == ""
    assert not browser.abort_button.disabled and not browser.refresh_button.disabled
    assert browser.stop_button.disabled and "done: " in browser.progress.value


def test_rows_show_while_sizes_are_counted_and_stop_keeps_them(browsers, proxy,
                                                             storage_options, boto, bucket,
                                                             key):
    ids = {start(boto, bucket, f"{key}/k{i}", [10]) for i in range(3)}
    proxy.fail("ListParts", "delay", times=10_000, seconds=5)  # sizes come slowly
    browser = UploadsBrowser(f"mpu://{bucket}/{key}/", fs=proxied_fs(proxy, storage_options))
    browsers.append(browser)
    wait_until(lambda: len(browser.frame) == 3, timeout=10)  # before any size is known
    assert set(browser.frame["upload_id"]) == ids and browser.frame["bytes"].isna().all()
    wait_until(lambda: "listing: 3 uploads listed, 0 sized" in browser.progress.value, 5)
    assert browser.busy
    browser.stop_button.click()
    browser.wait(timeout=3)  # within moments, not the 5 s of a ListParts
    assert not browser.busy and "stopped" in browser.status.value
    assert "stopped: 3 uploads listed, 0 sized" in browser.progress.value
    assert set(browser.frame["upload_id"]) == ids  # what was listed stays


def test_an_endpoint_going_down_mid_listing_keeps_the_rows_and_says_so_once(
        browsers, proxy, storage_options, boto, bucket, key):
    ids = {start(boto, bucket, f"{key}/k{i}", [10]) for i in range(3)}
    proxy.fail("ListParts", "reset", times=10_000)  # listed, then every sizing fails
    browser = UploadsBrowser(f"mpu://{bucket}/{key}/", fs=proxied_fs(proxy, storage_options))
    browsers.append(browser)
    browser.wait(timeout=120)
    assert set(browser.table.frame["upload_id"]) == ids  # the rows already listed stay
    status = browser.status.value
    assert "ListParts" in status and "Traceback" not in status and status.count("<div") <= 1
    assert not browser.refresh_button.disabled and not browser.busy
