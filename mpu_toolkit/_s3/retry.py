"""Retries with exponential backoff and jitter for transient S3 failures.

Upload paths retry here, in one visible place, instead of inside botocore: the writer
re-sends the *same bytes under the same part number*, logs every retry, and decides
per call whether an unreachable endpoint is worth waiting for (not on the first request:
a wrong ``endpoint_url`` must fail fast, not after minutes).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Awaitable, Callable, TypeVar

from ..errors import ConfigurationError, EndpointUnreachable, MPUError

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` tries in all; waits ``base_delay * 2**n`` (jittered, capped)."""

    max_attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 10.0

    def __post_init__(self) -> None:
        if not 1 <= self.max_attempts <= 100:
            raise ConfigurationError(f"max_attempts={self.max_attempts} must be 1..100")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ConfigurationError("retry delays must be >= 0")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1)

    def should_retry(self, error: BaseException, attempt: int, *,
                     retry_unreachable: bool) -> bool:
        if attempt >= self.max_attempts or not isinstance(error, MPUError):
            return False
        if isinstance(error, EndpointUnreachable):
            return retry_unreachable
        return error.transient

    async def run(self, call: Callable[[], Awaitable[T]], *, what: str,
                  retry_unreachable: bool = True,
                  on_retry: Callable[[int, BaseException], None] | None = None) -> T:
        """Await ``call()`` until it succeeds, a permanent error, or attempts run out."""
        attempt = 1
        while True:
            try:
                return await call()
            except Exception as error:
                if not self.should_retry(error, attempt, retry_unreachable=retry_unreachable):
                    raise
                wait = self.delay(attempt)
                log.warning("%s failed (attempt %d of %d): %s; retrying in %.2fs",
                            what, attempt, self.max_attempts, error, wait)
                if on_retry is not None:
                    on_retry(attempt, error)
                await asyncio.sleep(wait)
                attempt += 1
