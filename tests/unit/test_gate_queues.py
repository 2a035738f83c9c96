"""The gate's on-failure queue rule (issue 19, hole 3): a discarded batch is a hole the lag never shows."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError
from test_app_gate import NOW, _evidence  # same directory: on sys.path

from controlplane.failure_queues import FailureQueues
from controlplane.gate import evaluate
from controlplane.gate_queues import QueueReading
from cutover.names import Names

Q = "svc-dev-cutover-users-stream-failures"


def _with(*readings: QueueReading):
    return dataclasses.replace(_evidence(), failure_queues=readings)


def test_empty_queues_with_nothing_sent_since_the_repair_pass():
    # Given both queues empty, nothing sent since the last full repair
    evidence = _with(QueueReading("users", Q, depth=0, sent=0), QueueReading("orders", Q, depth=0, sent=0))
    # Then the flip is allowed
    assert evaluate("v3", evidence).allowed


def test_a_message_on_a_queue_fails_naming_the_queue_and_the_fix():
    # Given one discarded batch on the users' queue (lag ~0, quarantine 0, no gap)
    verdict = evaluate("v3", _with(QueueReading("users", Q, depth=1, sent=1)))
    # Then refused, one line naming the queue, its depth and redrive then repair
    assert not verdict.allowed
    [failure] = verdict.failures
    assert Q in failure and "1 discarded batch" in failure
    assert failure.index("cutover dlq redrive") < failure.index("cutover reconcile --repair")


def test_a_queue_that_received_messages_since_the_last_repair_fails_even_when_empty_now():
    # Given an empty queue that received 2 messages since the last full repair (redriven or purged)
    since = (NOW - timedelta(hours=2)).isoformat()
    verdict = evaluate("v3", _with(QueueReading("users", Q, depth=0, sent=2, since=since)))
    # Then refused: a full repair must start after them
    [failure] = verdict.failures
    assert Q in failure and "received 2 message(s)" in failure and since in failure
    assert "cutover reconcile --repair" in failure


def test_an_unreadable_queue_fails_with_its_reason():
    # Given a queue the gate could not read (no permission, wrong name)
    reading = QueueReading("orders", Q, error="AccessDenied: not authorized to perform sqs:GetQueueAttributes")
    verdict = evaluate("v3", _with(reading))
    # Then refused: missing evidence is not evidence of safety; the line says why and what to fix
    [failure] = verdict.failures
    assert Q in failure and "AccessDenied" in failure and "could not be read" in failure


def test_a_reading_without_counts_fails_like_an_unreadable_one():
    # Given a reading with neither a depth nor a sent count (and no error)
    verdict = evaluate("v3", _with(QueueReading("users", Q)))
    # Then refused, never passed
    assert not verdict.allowed and "could not be read" in verdict.failures[0]


def test_the_queue_failure_comes_after_lag_and_backfill_and_before_the_reconcile():
    # Given no backfill, an unclean reconcile and a message on a queue
    evidence = dataclasses.replace(
        _evidence(clean=False), backfill=None, failure_queues=(QueueReading("users", Q, depth=3, sent=3),)
    )
    failures = evaluate("v3", evidence).failures
    # Then the order to fix them is: backfill, redrive the queue, then the reconcile
    assert "no complete backfill" in failures[0] and Q in failures[1] and "not clean" in failures[2]


class _Sqs:
    def __init__(self, depth: dict[str, tuple[str, str]], denied: str = "") -> None:
        self.depth, self.denied = depth, denied

    def get_queue_url(self, QueueName: str) -> dict[str, str]:
        if QueueName == self.denied:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no sqs:GetQueueUrl"}}, "GetQueueUrl")
        return {"QueueUrl": f"https://sqs/{QueueName}"}

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        visible, hidden = self.depth[QueueUrl.rsplit("/", 1)[1]]
        return {"Attributes": {AttributeNames[0]: visible, AttributeNames[1]: hidden}}


class _CloudWatch:
    def __init__(self, sums: list[float]) -> None:
        self.sums = sums
        self.asked: list[dict[str, Any]] = []

    def get_metric_statistics(self, **kwargs: Any) -> dict[str, Any]:
        self.asked.append(kwargs)
        return {"Datapoints": [{"Sum": s} for s in self.sums]}


def test_on_aws_what_was_sent_since_the_repair_comes_from_cloudwatch_and_in_flight_counts():
    # Given an empty users' queue that CloudWatch saw receive 1 + 2 messages, and 1 orders' message in flight
    names = Names(service="svc")
    sqs = _Sqs({names.failure_queue("users"): ("0", "0"), names.failure_queue("orders"): ("0", "1")})
    cloudwatch, now = _CloudWatch([1.0, 2.0]), NOW
    # When read since a repair that started an hour ago
    users, orders = FailureQueues(names, sqs, cloudwatch).read((NOW - timedelta(hours=1)).isoformat(), now)
    # Then users sent 3 (the metric's sum, from the repair's start to now), orders holds 1
    assert (users.depth, users.sent, users.counted_by) == (0, 3, "cloudwatch")
    assert orders.depth == 1
    asked = cloudwatch.asked[0]
    assert asked["MetricName"] == "NumberOfMessagesSent" and asked["Statistics"] == ["Sum"]
    assert asked["Dimensions"] == [{"Name": "QueueName", "Value": names.failure_queue("users")}]
    assert asked["StartTime"] == now - timedelta(hours=1) and asked["EndTime"] == now
    assert (asked["EndTime"] - asked["StartTime"]).total_seconds() / asked["Period"] <= 1440


def test_locally_the_queue_count_stands_in_and_an_error_becomes_the_reason():
    # Given a local endpoint (no CloudWatch): users holds 2 messages, orders' queue cannot be read
    names = Names(service="svc")
    sqs = _Sqs({names.failure_queue("users"): ("2", "0")}, denied=names.failure_queue("orders"))
    users, orders = FailureQueues(names, sqs, None).read(None, NOW)
    # Then users' sent count is what it holds, and orders carries the error the gate refuses on
    assert (users.depth, users.sent, users.counted_by) == (2, 2, "queue")
    assert orders.depth is None and orders.error == "AccessDenied: no sqs:GetQueueUrl"
    assert not evaluate("v3", _with(users, orders)).allowed
