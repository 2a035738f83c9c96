"""Retry, rate limiting and AWS request-limit checks: the plumbing nothing may be dropped through."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from request_limits import violations

from cutover.rate import TokenBucket
from cutover.retry import backoff_delay, call_with_retry, is_retryable


def _client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutItem"
    )


def test_throttles_and_5xx_are_retried_until_success_but_validation_errors_are_not():
    # Given a call that is throttled 12 times (more than botocore's own retries) then succeeds
    failures = [_client_error("ProvisionedThroughputExceededException")] * 6 + [_client_error("Boom", 500)] * 6
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if failures:
            raise failures.pop()
        return "ok"

    # When it is called with retry, Then it succeeds after every failure, sleeping each time
    assert call_with_retry(flaky, sleep=sleeps.append) == "ok"
    assert len(calls) == 13 and len(sleeps) == 12
    # And a non-transient error propagates at once
    with pytest.raises(ClientError):
        call_with_retry(lambda: (_ for _ in ()).throw(_client_error("ValidationException")), sleep=sleeps.append)
    assert not is_retryable(_client_error("ConditionalCheckFailedException"))


def test_backoff_is_full_jitter_and_bounded():
    # Given the largest possible random draw, Then delay doubles from base and stops at the cap
    assert backoff_delay(0, base=0.05, cap=5, rng=lambda: 1.0) == pytest.approx(0.05)
    assert backoff_delay(3, base=0.05, cap=5, rng=lambda: 1.0) == pytest.approx(0.4)
    assert backoff_delay(10_000, base=0.05, cap=5, rng=lambda: 1.0) == 5
    # And the smallest draw is zero (full jitter, not "equal jitter")
    assert backoff_delay(5, rng=lambda: 0.0) == 0


def test_token_bucket_caps_the_average_rate():
    # Given a fake clock and a bucket of 10 items/s with a burst of 10
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(10, clock=lambda: now[0], sleep=sleep)
    # When 40 items are taken as fast as possible
    for _ in range(40):
        bucket.acquire()
    # Then the first 10 are free (burst) and the other 30 take 3 seconds
    assert now[0] == pytest.approx(3.0)
    with pytest.raises(ValueError):
        TokenBucket(0)


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("BatchGetItem", {"RequestItems": {"t": {"Keys": [{"k": {"S": str(i)}} for i in range(101)]}}}, "101 keys"),
        ("BatchGetItem", {"RequestItems": {"t": {"Keys": [{"k": {"S": "a"}}, {"k": {"S": "a"}}]}}}, "duplicate keys"),
        ("BatchWriteItem", {"RequestItems": {"t": [{}] * 26}}, "26 items"),
        ("TransactWriteItems", {"TransactItems": [{}] * 101}, "101 items"),
        ("PutItem", {"Item": {"big": {"S": "x" * (400 * 1024 + 1)}}}, "bytes"),
    ],
)
def test_limit_checker_flags_requests_aws_would_reject(operation, params, expected):
    # Given an oversize request moto would accept, Then the checker names what AWS would reject
    found = violations(operation, params)
    assert len(found) == 1 and expected in found[0]


def test_limit_checker_accepts_requests_at_the_limit():
    assert (
        violations("BatchGetItem", {"RequestItems": {"t": {"Keys": [{"k": {"S": str(i)}} for i in range(100)]}}}) == []
    )
    assert violations("BatchWriteItem", {"RequestItems": {"t": [{}] * 25}}) == []


def test_an_unreachable_endpoint_fails_after_a_few_attempts_instead_of_hanging():
    from botocore.exceptions import EndpointConnectionError

    sleeps: list[float] = []

    def down():
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    with pytest.raises(EndpointConnectionError):
        call_with_retry(down, sleep=sleeps.append, transport_attempts=4)
    assert len(sleeps) == 3
