"""The retry policy under every request: which answers are retried, how often, how long it
waits, and which failures may have lost an answer the server did send."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import botocore.exceptions as bce
import pytest

from mpu_toolkit._s3.retry import RetryHandler, RetryPolicy, install, scope
from mpu_toolkit.errors import (
    AccessDenied,
    ConfigurationError,
    IntegrityError,
    MPUError,
    NoSuchUpload,
    TransientS3Error,
)

FAST = dict(base_delay=0, max_delay=0)


class FlakyCall:
    """An async call that raises the given errors in turn, then returns ``"ok"``."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def run(policy: RetryPolicy, call: FlakyCall) -> str:
    return asyncio.run(policy.run(call, what="test call"))


@pytest.mark.parametrize("failures", [0, 1, 2, 4])
def test_run_repeats_transient_failures_then_succeeds(failures: int) -> None:
    call = FlakyCall(*[TransientS3Error(f"slow down {i}") for i in range(failures)])
    assert run(RetryPolicy(5, **FAST), call) == "ok"
    assert call.calls == failures + 1


def test_run_repeats_an_integrity_error() -> None:
    call = FlakyCall(IntegrityError("short body"))
    assert run(RetryPolicy(3, **FAST), call) == "ok"
    assert call.calls == 2


@pytest.mark.parametrize("error", [NoSuchUpload("gone"), AccessDenied("no"),
                                   MPUError("generic"), ValueError("not ours"),
                                   ConnectionResetError("not mapped yet")])
def test_run_does_not_repeat_permanent_errors(error: BaseException) -> None:
    call = FlakyCall(error, error)
    with pytest.raises(type(error)) as info:
        run(RetryPolicy(5, **FAST), call)
    assert info.value is error
    assert call.calls == 1


def test_run_raises_the_last_error_when_attempts_run_out() -> None:
    errors = [TransientS3Error(f"attempt {i}") for i in range(1, 5)]
    call = FlakyCall(*errors)
    with pytest.raises(TransientS3Error) as info:
        run(RetryPolicy(3, **FAST), call)
    assert call.calls == 3
    assert info.value is errors[2]


def test_a_single_attempt_is_never_repeated() -> None:
    call = FlakyCall(TransientS3Error("once"))
    with pytest.raises(TransientS3Error):
        run(RetryPolicy(1, **FAST), call)
    assert call.calls == 1


# -- the botocore needs-retry handler: what each answer means ---------------------------------

class Operation:
    def __init__(self, name: str) -> None:
        self.name = name


class HTTP:
    def __init__(self, status: int) -> None:
        self.status_code = status


def answer(status: int, code: str = "", message: str = "", **parsed) -> tuple:
    if code:
        parsed["Error"] = {"Code": code, "Message": message}
    return HTTP(status), parsed


def ask(handler: RetryHandler, operation: str = "UploadPart", *, response=None,
        exception=None, attempts: int = 1, headers: dict | None = None) -> float | None:
    return handler(response=response, attempts=attempts, caught_exception=exception,
                   operation=Operation(operation),
                   request_dict={"url": "http://127.0.0.1:9/b/k?x=1", "headers": headers or {}})


@pytest.mark.parametrize("status, code, message, operation, retried", [
    (503, "SlowDown", "reduce your request rate", "UploadPart", True),
    (500, "InternalError", "", "HeadObject", True),
    (503, "ServiceUnavailable", "", "ListParts", True),
    (429, "", "", "GetObject", True),
    (404, "NoSuchKey", "", "HeadObject", False),
    (404, "NoSuchUpload", "", "UploadPart", False),
    (403, "AccessDenied", "", "ListMultipartUploads", False),
    (400, "EntityTooSmall", "", "CompleteMultipartUpload", False),
    # Ceph RGW: Complete after abort answers 500 "completion already in progress"
    (500, "InternalError", "completion already in progress", "CompleteMultipartUpload", False),
])
def test_error_answers_are_retried_when_transient(status, code, message, operation, retried):
    delay = ask(RetryHandler(RetryPolicy(**FAST)), operation,
                response=answer(status, code, message))
    assert (delay is not None) is retried


def test_connection_failures_are_retried_and_counted_as_lost_answers() -> None:
    handler = RetryHandler(RetryPolicy(**FAST))
    with scope() as attempts:
        for error in (bce.ConnectionClosedError(endpoint_url="http://x"),
                      bce.ReadTimeoutError(endpoint_url="http://x")):
            assert ask(handler, "CompleteMultipartUpload", exception=error) is not None
    assert attempts.lost == 2 and attempts.tries == 1


def test_an_endpoint_that_never_answered_is_not_retried_but_one_that_did_is() -> None:
    handler = RetryHandler(RetryPolicy(**FAST))
    refused = bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
    with scope() as attempts:
        assert ask(handler, exception=refused) is None  # a wrong endpoint_url fails at once
        assert ask(handler, response=answer(200, ETag='"x"')) is None
        assert ask(handler, exception=refused) is not None  # it answered before: a restart
    assert attempts.lost == 0  # a refused connection never carried the request


def test_a_part_answer_must_carry_the_md5_of_the_bytes_sent() -> None:
    handler = RetryHandler(RetryPolicy(**FAST))
    md5 = hashlib.md5(b"part").digest()
    headers = {"Content-MD5": base64.b64encode(md5).decode()}
    right = f'"{md5.hex()}"'
    assert ask(handler, response=answer(200, ETag=right), headers=headers) is None
    assert ask(handler, response=answer(200), headers=headers) is not None  # no ETag
    assert ask(handler, response=answer(200, ETag='"' + "0" * 32 + '"'),
               headers=headers) is not None
    assert ask(handler, "PutObject", response=answer(200, ETag='"kms-style"'),
               headers=headers) is None  # not an MD5: nothing can be concluded


def test_attempts_stop_at_the_policy_of_the_scope() -> None:
    handler = RetryHandler(RetryPolicy(5, **FAST))
    slow = answer(503, "SlowDown")
    assert ask(handler, response=slow, attempts=4) is not None
    assert ask(handler, response=slow, attempts=5) is None
    with scope(RetryPolicy(2, **FAST)):
        assert ask(handler, response=slow, attempts=1) is not None
        assert ask(handler, response=slow, attempts=2) is None


def test_install_replaces_botocores_retry_handler(storage_options) -> None:
    from fsspec.asyn import sync

    from mpu_toolkit import MPUFileSystem

    fs = MPUFileSystem(**storage_options, skip_instance_cache=True)
    client = sync(fs.loop, fs.set_session)
    ids = client.meta.events._emitter._unique_id_handlers
    assert "mpu_toolkit-retry" in ids and "retry-config-s3" not in ids
    install(client, RetryPolicy())  # idempotent
    assert client._mpu_retry_handler is ids["mpu_toolkit-retry"]["handler"]


@pytest.mark.parametrize("attempt", range(1, 12))
def test_delay_is_jittered_exponential_and_capped(attempt: int) -> None:
    policy = RetryPolicy(base_delay=0.25, max_delay=10.0)
    nominal = min(10.0, 0.25 * 2 ** (attempt - 1))
    delays = [policy.delay(attempt) for _ in range(50)]
    assert all(0.5 * nominal <= d <= nominal for d in delays)
    assert len(set(delays)) > 1  # jittered


def test_waits_between_attempts() -> None:
    call = FlakyCall(TransientS3Error("a"), TransientS3Error("b"))
    loop = asyncio.new_event_loop()
    try:
        start = loop.time()
        loop.run_until_complete(RetryPolicy(3, base_delay=0.02, max_delay=1).run(call, what="x"))
        elapsed = loop.time() - start
    finally:
        loop.close()
    # waits 0.01..0.02 then 0.02..0.04 seconds
    assert 0.03 <= elapsed < 1.0
    assert call.calls == 3


@pytest.mark.parametrize("kw", [{"max_attempts": 0}, {"max_attempts": 101},
                                {"base_delay": -1}, {"max_delay": -0.1}])
def test_invalid_policy(kw: dict) -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy(**kw)
