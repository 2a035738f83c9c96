"""Reading the replicator's on-failure queues for the flip gate and `cutover status`.

The queues are named by `Names.failure_queue(role)`, the name the deployment gives them
(infra/constructs/replicator.py), one per source role. Depth is ApproximateNumberOfMessages plus
...NotVisible (a re-drive in progress hides its messages; they still point at missing changes).
What a queue received since the last full repair is CloudWatch's NumberOfMessagesSent (sum) on
AWS, where a re-driven or purged message still counts; a local endpoint has no CloudWatch
metrics, so there the queue's own count (its depth) is all there is. SQS metrics are per minute
and the window's start is rounded down to it, so a message sent in the minute before the repair
started refuses the flip rather than pass it. Any error becomes the reading's reason, which the
gate refuses on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from controlplane.gate_queues import LOOKBACK_DAYS, QueueReading
from controlplane.gate_reconcile import parse
from cutover.names import Names

DEPTH = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
MAX_DATAPOINTS = 1440  # GetMetricStatistics answers at most this many per call


@dataclass
class FailureQueues:
    names: Names
    sqs: Any
    cloudwatch: Any | None  # None on a local endpoint: the queue's own count stands in

    def read(self, repair_started: str | None, now: datetime) -> tuple[QueueReading, ...]:
        """Every source's queue, in the definition's order; since the repair, or LOOKBACK_DAYS without one."""
        start = parse(repair_started) or now - timedelta(days=LOOKBACK_DAYS)
        return tuple(self._read(role, start, repair_started, now) for role in self.names.roles)

    def _read(self, role: str, start: datetime, since: str | None, now: datetime) -> QueueReading:
        queue = self.names.failure_queue(role)
        try:
            url = self.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
            attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(DEPTH))["Attributes"]
            depth = sum(int(attrs[a]) for a in DEPTH)
            if self.cloudwatch is None:
                return QueueReading(role, queue, depth, depth, since, "queue")
            return QueueReading(role, queue, depth, self._sent(self.cloudwatch, queue, start, now), since, "cloudwatch")
        except ClientError as exc:
            err = exc.response.get("Error", {})
            return QueueReading(role, queue, since=since, error=f"{err.get('Code')}: {err.get('Message')}")
        except (BotoCoreError, KeyError, ValueError) as exc:
            return QueueReading(role, queue, since=since, error=f"{type(exc).__name__}: {exc}")

    @staticmethod
    def _sent(cloudwatch: Any, queue: str, start: datetime, now: datetime) -> int:
        """NumberOfMessagesSent summed from `start` to `now`, in as few periods as CloudWatch allows."""
        end = max(now, start + timedelta(minutes=1))
        age = now - start
        unit = 60 if age <= timedelta(days=15) else 300 if age <= timedelta(days=63) else 3600  # retention tiers
        period = max(unit, math.ceil((end - start).total_seconds() / MAX_DATAPOINTS / unit) * unit)
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="NumberOfMessagesSent",
            Dimensions=[{"Name": "QueueName", "Value": queue}],
            StartTime=start,
            EndTime=end,
            Period=period,
            Statistics=["Sum"],
        )["Datapoints"]
        return int(sum(p.get("Sum", 0) for p in points))
