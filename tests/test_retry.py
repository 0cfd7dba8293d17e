"""RetryPolicy: which failures are retried, how often, and how long it waits."""

from __future__ import annotations

import asyncio

import pytest

from mpu_toolkit.errors import (AccessDenied, ConfigurationError, EndpointUnreachable,
                                IntegrityError, MPUError, NoSuchUpload, TransientS3Error)
from mpu_toolkit._s3.retry import RetryPolicy

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


def run(policy: RetryPolicy, call: FlakyCall, **kw) -> str:
    return asyncio.run(policy.run(call, what="test call", **kw))


@pytest.mark.parametrize("failures", [0, 1, 2, 4])
def test_transient_failures_then_success(failures: int) -> None:
    call = FlakyCall(*[TransientS3Error(f"slow down {i}") for i in range(failures)])
    retried = []
    result = run(RetryPolicy(5, **FAST), call,
                 on_retry=lambda attempt, error: retried.append((attempt, str(error))))
    assert result == "ok"
    assert call.calls == failures + 1
    assert retried == [(i + 1, f"slow down {i}") for i in range(failures)]


def test_integrity_error_is_retried() -> None:
    call = FlakyCall(IntegrityError("md5 mismatch"))
    assert run(RetryPolicy(3, **FAST), call) == "ok"
    assert call.calls == 2


@pytest.mark.parametrize("error", [NoSuchUpload("gone"), AccessDenied("no"),
                                   MPUError("generic"), ValueError("not ours"),
                                   ConnectionResetError("not mapped yet")])
def test_permanent_errors_are_not_retried(error: BaseException) -> None:
    call = FlakyCall(error, error)
    with pytest.raises(type(error)) as info:
        run(RetryPolicy(5, **FAST), call)
    assert info.value is error
    assert call.calls == 1


def test_attempts_exhausted_raises_the_last_error() -> None:
    errors = [TransientS3Error(f"attempt {i}") for i in range(1, 5)]
    call = FlakyCall(*errors)
    with pytest.raises(TransientS3Error) as info:
        run(RetryPolicy(3, **FAST), call)
    assert call.calls == 3
    assert info.value is errors[2]


def test_single_attempt_never_retries() -> None:
    call = FlakyCall(TransientS3Error("once"))
    with pytest.raises(TransientS3Error):
        run(RetryPolicy(1, **FAST), call)
    assert call.calls == 1


def test_unreachable_retried_only_when_asked() -> None:
    call = FlakyCall(EndpointUnreachable("down"), EndpointUnreachable("down"))
    assert run(RetryPolicy(5, **FAST), call, retry_unreachable=True) == "ok"
    assert call.calls == 3

    call = FlakyCall(EndpointUnreachable("down"))
    with pytest.raises(EndpointUnreachable):
        run(RetryPolicy(5, **FAST), call, retry_unreachable=False)
    assert call.calls == 1


def test_should_retry() -> None:
    policy = RetryPolicy(3)
    transient = TransientS3Error("x")
    assert policy.should_retry(transient, 1, retry_unreachable=False)
    assert policy.should_retry(transient, 2, retry_unreachable=False)
    assert not policy.should_retry(transient, 3, retry_unreachable=False)
    assert not policy.should_retry(OSError("x"), 1, retry_unreachable=True)


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
