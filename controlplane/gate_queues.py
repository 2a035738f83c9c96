"""The gate's on-failure queue rule: a batch the replicator's event source discarded is a hole.

After its retries, Lambda sends a pointer to the batch to the source's on-failure queue and moves
on: the next batch applies, lag is ~0, nothing is quarantined and no gap is recorded, yet v3
misses those changes (issue 19). So v3 is refused while a queue holds a message (visible or in
flight), and while one received messages since the last full `reconcile --repair` started (a
re-drive deleted them, or someone purged them: only a repair proves what they covered is
mended). A queue that could not be read fails too: missing evidence is not evidence of safety.
Pure: the readings are gathered by `controlplane.failure_queues`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

LOOKBACK_DAYS = 14  # with no repair recorded: the queues' retention, and within CloudWatch's 1-minute data (15 days)
FIX = "run `cutover dlq redrive`, then `cutover reconcile --repair` (runbooks/poison-record.md)"


@dataclass(frozen=True)
class QueueReading:
    """One source's on-failure queue as the gate saw it."""

    source: str
    queue: str
    depth: int | None = None  # ApproximateNumberOfMessages + ...NotVisible
    sent: int | None = None  # messages sent to it since `since` (CloudWatch on AWS; locally what it holds)
    since: str | None = None  # the last full repair's start (None: none recorded; a look-back window)
    counted_by: str = ""  # "cloudwatch" or "queue"
    error: str | None = None  # why it could not be read

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def queue_failures(readings: Iterable[QueueReading]) -> list[str]:
    out = []
    for r in readings:
        if r.error is not None or r.depth is None or r.sent is None:
            why = r.error or "no message counts"
            out.append(
                f"the on-failure queue {r.queue} ({r.source}) could not be read ({why}): the gate cannot tell "
                "whether batches were discarded; fix access (sqs:GetQueueUrl, sqs:GetQueueAttributes, "
                "cloudwatch:GetMetricStatistics) or the name, then flip again"
            )
        elif r.depth:
            out.append(f"the on-failure queue {r.queue} ({r.source}) holds {r.depth} discarded batch(es): {FIX}")
        elif r.sent:
            when = (
                f"since the last full repair started ({r.since})"
                if r.since
                else f"in the last {LOOKBACK_DAYS} days, and no full repair is recorded"
            )
            out.append(
                f"the on-failure queue {r.queue} ({r.source}) received {r.sent} message(s) {when}: the batches they "
                "point at were discarded; run `cutover reconcile --repair` (after `cutover dlq redrive` if any "
                "remain; runbooks/poison-record.md)"
            )
    return out
