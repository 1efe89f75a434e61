"""Retry policy for transports: capped exponential backoff with jitter and an overall deadline.

Only operations that are safe to send again are retried, and only for errors whose class says so
(``RemoteError.retryable``): an authentication failure is never retried, since retrying can lock
the account out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from aksnet.errors import RemoteError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a safe operation."""

    attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 10.0
    jitter: float = 0.5
    deadline: float = 60.0

    def call(self, operation: Callable[[], T], *, safe: bool = True) -> T:
        """Run operation, retrying retryable RemoteErrors when the operation is safe to resend."""
        if not safe or self.attempts <= 1:
            return operation()
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts)
            | tenacity.stop_after_delay(self.deadline),
            wait=tenacity.wait_exponential(multiplier=self.initial_delay, max=self.max_delay)
            + tenacity.wait_random(0, self.jitter),
            retry=tenacity.retry_if_exception(_is_retryable),
            reraise=True,
        )
        return retrying(operation)


NO_RETRY = RetryPolicy(attempts=1)


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, RemoteError) and error.retryable
