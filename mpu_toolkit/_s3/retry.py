"""One retry policy under every S3 request.

The policy answers botocore's ``needs-retry`` event on the filesystem's aiobotocore client
(:func:`install`), so *every* request is retried the same visible way: the engine's, the
inventory's, copies', and s3fs's own reads and listings through ``mpu://``. Transient
failures — 5xx, SlowDown and throttling, resets, timeouts, and an UploadPart/PutObject answer
whose ETag is not the MD5 that was sent — are repeated with exponential backoff and jitter up
to ``max_attempts`` tries. botocore rebuilds and re-signs the request each time; a part's body
is sent again from its first byte, under the same part number.

An unreachable endpoint (connection refused, DNS, connect timeout) is retried only once the
endpoint has answered before: a wrong ``endpoint_url`` fails at once, a server that restarts
in the middle of an upload is waited for.

A caller may open a :func:`scope` around its requests: its own policy (a write's
``max_attempts``) and an :class:`Attempts` record that counts the *lost answers* — failures
after which the server may have done the request (a reset or timeout after it was sent).
CreateMultipartUpload and CompleteMultipartUpload use it to decide whether to look again.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterator, TypeVar

from .._plan.integrity import answer_problem
from ..errors import ConfigurationError, EndpointUnreachable, MPUError
from .errormap import error_class, map_error

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["RetryPolicy", "Attempts", "scope", "install"]


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` tries in all; waits ``base_delay * 2**n`` (jittered, capped)."""

    max_attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 10.0

    def __post_init__(self) -> None:
        if (isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int)
                or not 1 <= self.max_attempts <= 100):
            raise ConfigurationError(f"max_attempts={self.max_attempts!r} must be an integer "
                                     "from 1 to 100")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ConfigurationError("retry delays must be >= 0")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1)

    async def run(self, call: Callable[[], Awaitable[T]], *, what: str) -> T:
        """Await ``call()`` again while it fails transiently: for work that spans more than
        one request's answer (a GetObject whose body breaks off while it is read)."""
        attempt = 1
        while True:
            try:
                return await call()
            except MPUError as error:
                if attempt >= self.max_attempts or not error.transient:
                    raise
                wait = self.delay(attempt)
                log.warning("%s failed (attempt %d of %d): %s; retrying in %.2fs",
                            what, attempt, self.max_attempts, error, wait)
                await asyncio.sleep(wait)
                attempt += 1


@dataclass
class Attempts:
    """What happened on the way to one answer: tries made and answers lost."""

    tries: int = 0
    #: failures with no HTTP answer after the request was sent: the server may have done it
    lost: int = 0


@dataclass(frozen=True)
class _Scope:
    policy: RetryPolicy | None
    attempts: Attempts = field(default_factory=Attempts)
    what: str = ""


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("mpu_retry_scope",
                                                                       default=None)


@contextlib.contextmanager
def scope(policy: RetryPolicy | None = None, attempts: Attempts | None = None,
          what: str = "") -> Iterator[Attempts]:
    """Requests awaited inside (in this task) use ``policy`` and count into ``attempts``."""
    current = _Scope(policy, attempts if attempts is not None else Attempts(), what)
    token = _SCOPE.set(current)
    try:
        yield current.attempts
    finally:
        _SCOPE.reset(token)


class RetryHandler:
    """botocore's ``needs-retry`` event answered by a :class:`RetryPolicy`: returns the
    seconds to wait before the next try, or ``None`` to stop."""

    def __init__(self, default: RetryPolicy) -> None:
        self.default = default
        self.reached = False  #: the endpoint has answered at least once

    def __call__(self, response: Any = None, attempts: int = 1, caught_exception: Any = None,
                 operation: Any = None, request_dict: Any = None, **_: Any) -> float | None:
        current = _SCOPE.get()
        policy = (current.policy if current and current.policy else None) or self.default
        name = getattr(operation, "name", "request")
        if response is not None:
            self.reached = True
        if current is not None:
            current.attempts.tries = attempts
        problem, retryable, lost = self._failure(name, response, caught_exception, request_dict)
        if problem is None:
            return None
        if lost and current is not None:
            current.attempts.lost += 1
        if not retryable or attempts >= policy.max_attempts:
            return None
        wait = policy.delay(attempts)
        what = (current.what if current and current.what
                else f"{name} {str((request_dict or {}).get('url', '')).split('?')[0]}")
        log.warning("%s failed (attempt %d of %d): %s; retrying in %.2fs", what, attempts,
                    policy.max_attempts, problem, wait)
        return wait

    def _failure(self, operation: str, response: Any, exception: Any,
                 request: Any) -> tuple[str | None, bool, bool]:
        """(what went wrong, worth another try, the answer may be lost) for one try."""
        if exception is not None:
            error = map_error(exception, operation=operation)
            if isinstance(error, EndpointUnreachable):
                return str(error), self.reached, False
            return f"{type(exception).__name__}: {exception}", error.transient, error.transient
        http, parsed = response
        status = int(getattr(http, "status_code", 0) or 0)
        if status >= 300:
            details = parsed.get("Error", {}) if isinstance(parsed, dict) else {}
            code, message = str(details.get("Code", "")), str(details.get("Message", ""))
            cls = error_class(code, status, operation, message)
            return f"{status} {code or ''} {message}".strip(), cls.transient, False
        if operation in ("UploadPart", "PutObject"):
            problem = answer_problem((request or {}).get("headers") or {}, parsed)
            return problem, problem is not None, False
        return None, False, False


_HANDLER_ID = "mpu_toolkit-retry"
_BOTOCORE_HANDLER_ID = "retry-config-s3"  # botocore's legacy and standard modes alike


def install(client: Any, default: RetryPolicy) -> None:
    """Answer ``client``'s retry questions with ``default`` (and any :func:`scope`'s policy).

    botocore's own retry handler is removed: at its last attempt it re-raises a connection
    error from inside the event, so no later handler could retry it; and two policies would
    multiply the tries. Idempotent: a client keeps the handler installed first.
    """
    if getattr(client, "_mpu_retry_handler", None) is None:
        events = client.meta.events
        events.unregister("needs-retry.s3", unique_id=_BOTOCORE_HANDLER_ID)
        handler = RetryHandler(default)
        events.register("needs-retry.s3", handler, unique_id=_HANDLER_ID)
        client._mpu_retry_handler = handler
