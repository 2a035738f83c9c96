"""Re-drive what the replicator's event source gave up on, from the on-failure queue.

Lambda sends an on-failure destination only a pointer to a discarded batch (`DDBStreamBatchInfo`:
stream ARN, shard, first and last sequence number), never the records themselves
(https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html). So a re-drive
re-reads that range from the stream while DynamoDB Streams still retains it (24 h), applies it
through the same `Replicator` the Lambda runs (its version guard makes a re-apply harmless), and
deletes the message only once every record of the range, up to and including its end sequence,
was read and applied, skipped or quarantined (a read that stops short keeps the message). A
range the stream no longer holds is reported as trimmed: only `cutover reconcile --repair` can
mend what it covered, and the message stays until an operator deletes it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from cutover.errors import CutoverError
from replicator.batch import BatchResult
from replicator.engine import Replicator
from replicator.poller.lambda_events import to_lambda_event
from replicator.record_apply import RecordOutcome

MAX_EMPTY_PAGES = 50  # an open shard may answer empty pages before the records (GetRecords reference)
TRIMMED_CODES = frozenset({"TrimmedDataAccessException", "ResourceNotFoundException", "ExpiredIteratorException"})


class FailureMessageError(CutoverError):
    """An on-failure message that is not a DynamoDB Streams batch pointer."""

    def __init__(self, message_id: str, why: str) -> None:
        super().__init__(
            f"on-failure message {message_id} is not a DynamoDB Streams failure record ({why}): inspect it with "
            "`cutover dlq list --json` and delete it by hand if it does not belong to cutover"
        )


@dataclass(frozen=True)
class FailedBatch:
    """One on-failure message: the stream range Lambda discarded, and how to delete the message."""

    message_id: str
    receipt_handle: str
    stream_arn: str
    shard_id: str
    start_sequence: str
    end_sequence: str
    batch_size: int
    condition: str
    first_arrival: str | None

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> FailedBatch:
        message_id = str(message.get("MessageId", "?"))
        try:
            body = json.loads(message["Body"])
            info = body["DDBStreamBatchInfo"]
            return cls(
                message_id=message_id,
                receipt_handle=str(message["ReceiptHandle"]),
                stream_arn=str(info["streamArn"]),
                shard_id=str(info["shardId"]),
                start_sequence=str(info["startSequenceNumber"]),
                end_sequence=str(info["endSequenceNumber"]),
                batch_size=int(info.get("batchSize", 0)),
                condition=str(body.get("requestContext", {}).get("condition", "")),
                first_arrival=info.get("approximateArrivalOfFirstRecord"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FailureMessageError(message_id, f"{type(exc).__name__}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "receipt_handle"}


class Verdict(enum.Enum):
    REDRIVEN = "redriven"  # every record applied, skipped or quarantined; message deleted
    FAILED = "failed"  # some record failed again (transient?): message kept, try again
    TRIMMED = "trimmed"  # the stream no longer holds (all of) the range: reconcile --repair
    INCOMPLETE = "incomplete"  # the read ended before endSequenceNumber: message kept, nothing applied


@dataclass
class RedriveResult:
    batch: FailedBatch
    verdict: Verdict
    records: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.batch.to_dict(),
            "verdict": self.verdict.value,
            "records": self.records,
            "outcomes": self.outcomes,
            "detail": self.detail,
        }


class FailureQueue:
    """The on-failure queue of one legacy table's event source."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self.queue_url = queue_url

    def peek(self, limit: int = 100) -> Iterator[dict[str, Any]]:
        """Messages without consuming them (visibility timeout 0: they stay visible to others)."""
        seen: set[str] = set()
        while len(seen) < limit:
            got = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, limit - len(seen)),
                VisibilityTimeout=0,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                return
            for message in fresh:
                seen.add(message["MessageId"])
                yield message

    def take(self, limit: int, hold_seconds: int = 300) -> list[dict[str, Any]]:
        """Messages hidden from other consumers for `hold_seconds` while one re-drive works on them."""
        taken: list[dict[str, Any]] = []
        while len(taken) < limit:
            got = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, limit - len(taken)),
                VisibilityTimeout=hold_seconds,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not got:
                break
            taken.extend(got)
        return taken

    def delete(self, batch: FailedBatch) -> None:
        self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=batch.receipt_handle)

    def release(self, batch: FailedBatch) -> None:
        """Make a message visible again at once (it was not re-driven)."""
        self._sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=batch.receipt_handle, VisibilityTimeout=0
        )


def read_range(streams: Any, batch: FailedBatch) -> list[dict[str, Any]]:
    """The GetRecords records of the batch's range, in order, up to and including its end sequence.

    Sequence numbers are compared as integers (decimal strings of varying length: "9" > "10").
    The read ends once a record at or past the end sequence is seen; a null iterator (closed
    shard) or MAX_EMPTY_PAGES empty pages before that means the range was not all read.

    Raises:
        TrimmedRange: the stream or shard is gone, or the first record has been trimmed.
        IncompleteRange: the shard ended, or only empty pages came, before the end sequence.
    """
    first, last = int(batch.start_sequence), int(batch.end_sequence)
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=batch.stream_arn,
            ShardId=batch.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=batch.start_sequence,
        )["ShardIterator"]
        records: list[dict[str, Any]] = []
        empty = 0
        while iterator and empty < MAX_EMPTY_PAGES:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            iterator = page.get("NextShardIterator")
            empty = 0 if page["Records"] else empty + 1
            for record in page["Records"]:
                seq = int(record["dynamodb"]["SequenceNumber"])
                if first <= seq <= last:
                    records.append(record)
                if seq >= last:
                    return records
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in TRIMMED_CODES:
            raise TrimmedRange(f"{code}: {exc.response.get('Error', {}).get('Message', '')}") from exc
        raise
    why = "the shard ended (null iterator)" if not iterator else f"{MAX_EMPTY_PAGES} empty pages in a row"
    read_to = records[-1]["dynamodb"]["SequenceNumber"] if records else "nothing"
    raise IncompleteRange(
        f"{why} before the range's end {batch.end_sequence} (read up to {read_to}): run `cutover dlq redrive` "
        "again; if it stays incomplete the records are gone (24 h stream retention): run `cutover reconcile --repair`"
    )


class IncompleteRange(Exception):
    """The read stopped before the range's end sequence: not every record of it was seen."""


class TrimmedRange(Exception):
    """The stream no longer holds the range (retention is 24 h)."""


def redrive(batch: FailedBatch, streams: Any, replicator: Replicator, region: str) -> RedriveResult:
    """Re-apply one discarded batch. Deleting the message is the caller's job (only on REDRIVEN)."""
    try:
        records = read_range(streams, batch)
    except TrimmedRange as exc:
        return RedriveResult(batch, Verdict.TRIMMED, detail=str(exc))
    except IncompleteRange as exc:
        return RedriveResult(batch, Verdict.INCOMPLETE, detail=str(exc))
    if not records:
        return RedriveResult(batch, Verdict.TRIMMED, detail="no record of the range is left in the stream")
    if int(records[0]["dynamodb"]["SequenceNumber"]) > int(batch.start_sequence):
        detail = f"the range starts at {batch.start_sequence} but the stream's first record is later (trimmed)"
        return RedriveResult(batch, Verdict.TRIMMED, len(records), detail=detail)
    result: BatchResult = replicator.process(to_lambda_event(records, batch.stream_arn, region)["Records"])
    outcomes = {o.value: result.count(o) for o in RecordOutcome if result.count(o)}
    verdict = Verdict.FAILED if result.count(RecordOutcome.FAILED) else Verdict.REDRIVEN
    return RedriveResult(batch, verdict, len(records), outcomes)
