"""Retry throttled and transient DynamoDB calls forever, with exponential backoff and full jitter.

Nothing may be dropped: a throttled write that gave up would be a lost item, so the number of
attempts is unbounded. The delay is bounded (`cap`) so a long throttle costs time, not a stall.
Full jitter (a uniform draw in [0, min(cap, base * 2**n)]) spreads the retries of many threads
so they do not hit the table again in lock-step. Non-transient errors propagate at once.
Connection failures are retried only `transport_attempts` times: an endpoint that is down or
misconfigured must fail the run (its page is then not checkpointed), not hang it forever.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

T = TypeVar("T")

RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
        "TransactionInProgressException",
    }
)
_TRANSPORT = (ConnectionClosedError, EndpointConnectionError, ReadTimeoutError)


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSPORT):
        return True
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in RETRYABLE_CODES or status >= 500
    return False


def backoff_delay(
    attempt: int, base: float = 0.05, cap: float = 5.0, rng: Callable[[], float] = random.random
) -> float:
    """Full-jitter delay before retry number `attempt` (0-based)."""
    return float(rng() * min(cap, base * (2 ** min(attempt, 30))))


def call_with_retry(
    fn: Callable[[], T],
    *,
    base: float = 0.05,
    cap: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    transport_attempts: int = 6,
    on_retry: Callable[[BaseException], None] | None = None,
) -> T:
    """Call `fn` until it succeeds or raises something that is not transient."""
    attempt = transport_failures = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            if not is_retryable(exc):
                raise
            if isinstance(exc, _TRANSPORT):
                transport_failures += 1
                if transport_failures >= transport_attempts:
                    raise
            if on_retry is not None:
                on_retry(exc)
            sleep(backoff_delay(attempt, base, cap))
            attempt += 1
