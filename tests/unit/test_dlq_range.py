"""`cutover dlq redrive` keeps a message unless its whole range, up to endSequenceNumber, was read.

A hand-built GetRecords double: moto returns every record at once and never closes a shard, so it
cannot show a range whose end never arrives (closed shard, or an open one answering empty pages).
"""

from __future__ import annotations

from typing import Any

from replicator.batch import BatchResult
from replicator.poller.dlq import MAX_EMPTY_PAGES, FailedBatch, Verdict, redrive
from replicator.record_apply import RecordOutcome, RecordResult


def _record(seq: int) -> dict[str, Any]:
    return {"eventName": "MODIFY", "dynamodb": {"SequenceNumber": str(seq), "Keys": {"id": {"S": str(seq)}}}}


class Pages:
    """GetRecords pages in order; after the last one the iterator is null (closed) or empty pages follow."""

    def __init__(self, pages: list[list[int]], closed: bool) -> None:
        self.pages, self.closed, self.calls = pages, closed, 0

    def get_shard_iterator(self, **_: Any) -> dict[str, str]:
        return {"ShardIterator": "it-0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self.calls += 1
        i = int(ShardIterator.split("-")[1])
        records = [_record(s) for s in self.pages[i]] if i < len(self.pages) else []
        done = self.closed and i + 1 >= len(self.pages)
        return {"Records": records, **({} if done else {"NextShardIterator": f"it-{i + 1}"})}


class Applier:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def process(self, records: list[dict[str, Any]]) -> BatchResult:
        self.seen += [r["dynamodb"]["SequenceNumber"] for r in records]
        return BatchResult(records, [RecordResult(RecordOutcome.APPLIED) for _ in records])


def _batch(start: str, end: str) -> FailedBatch:
    return FailedBatch("m1", "rh", "arn:aws:dynamodb:r:1:table/t/stream/x", "shard-1", start, end, 3, "", None)


def test_a_closed_shard_ending_before_the_range_end_keeps_the_message():
    # Given a range 100..300 whose shard closes after 200 (the end record is not there)
    streams, applier = Pages([[100, 200]], closed=True), Applier()
    # When re-driven
    result = redrive(_batch("100", "300"), streams, applier, "us-east-1")  # type: ignore[arg-type]
    # Then it is not re-driven (the message stays), and the detail names the range and the fix
    assert result.verdict is Verdict.INCOMPLETE
    assert "300" in result.detail and "reconcile --repair" in result.detail


def test_an_open_shard_answering_only_empty_pages_before_the_end_keeps_the_message():
    # Given a range 100..300: 100 is read, then the open shard answers empty pages only
    streams, applier = Pages([[100]], closed=False), Applier()
    # When re-driven
    result = redrive(_batch("100", "300"), streams, applier, "us-east-1")  # type: ignore[arg-type]
    # Then it gave up after the empty-page limit and kept the message
    assert result.verdict is Verdict.INCOMPLETE
    assert streams.calls == 1 + MAX_EMPTY_PAGES


def test_the_range_end_is_compared_as_a_number_and_reached_ends_the_read():
    # Given a range 9..10 (as strings "9" > "10") over pages 9 | 10 | 11, on an open shard
    streams, applier = Pages([[9], [10], [11]], closed=False), Applier()
    # When re-driven
    result = redrive(_batch("9", "10"), streams, applier, "us-east-1")  # type: ignore[arg-type]
    # Then exactly 9 and 10 were applied and the message may go; no page past the end was needed
    assert result.verdict is Verdict.REDRIVEN and applier.seen == ["9", "10"]
    assert streams.calls == 2
