"""A DynamoDB Streams test double that does what AWS documents and moto does not.

moto keeps one never-trimmed shard per table, returns every record on the first GetRecords call
and forgets a stream when it is disabled. AWS (API reference and developer guide) documents:

- GetRecords "If there are no stream records available in the portion of the shard that the
  iterator points to, GetRecords returns an empty list. Note that it might take multiple calls to
  get to a portion of the shard that contains stream records."
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html
  -> `empty_pages`: every fresh iterator first returns that many empty pages (NextShardIterator
  still moves), then records.
- NextShardIterator "If set to null, the shard has been closed and the requested iterator will
  not return any more data" (same page) -> returned with the last page of a closed shard.
- Stream records live 24 hours; reading a trimmed position raises TrimmedDataAccessException
  ("The operation attempted to read past the oldest stream record in a shard"), and a shard whose
  records are all trimmed drops out of DescribeStream.
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html
- "If you disable a stream, any shards that are open will be closed. The data in the stream will
  continue to be readable for 24 hours." Re-enabling creates a NEW stream (new label and ARN);
  ListStreams(TableName) lists both while the old one is readable.
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_ListStreams.html
- Shards split: the parent closes (EndingSequenceNumber) and a child names it as ParentShardId.

Sequence numbers are 21-digit decimal strings, increasing across the whole double.

A new stream's label is the double's clock, and always later than every other stream of its
table (moto's adopted ARN carries the table's creation time): never a fixed date, which would
sort before moto's streams once it has passed.

Misbehaviour a test can switch on (none of it is AWS's documented behaviour; sync must still end
and say what it could not finish): `enable(label=...)` for a label out of order, `never_ends` on
a closed shard (empty pages with an iterator, forever), `stuck_iterator` on a shard (every page
returns the same records again), `before_read` (a hook run before every GetRecords, e.g. to
write on each read, or to expire the stream between listing and reading).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from cutover.codec import to_ddb


def _error(code: str, message: str, op: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, op)


@dataclass
class _Shard:
    shard_id: str
    parent: str | None
    start: str
    records: list[dict[str, Any]] = field(default_factory=list)
    end: str | None = None  # set when closed
    trimmed_upto: str | None = None  # every record with sequence <= this is gone
    listed: bool = True
    never_ends: bool = False  # closed, but never returns a null NextShardIterator
    stuck_iterator: bool = False  # every page returns the first records again, with the same iterator

    def describe(self) -> dict[str, Any]:
        rng = {"StartingSequenceNumber": self.start}
        if self.end is not None:
            rng["EndingSequenceNumber"] = self.end
        out: dict[str, Any] = {"ShardId": self.shard_id, "SequenceNumberRange": rng}
        if self.parent:
            out["ParentShardId"] = self.parent
        return out


@dataclass
class _Stream:
    arn: str
    table: str
    label: str
    shards: dict[str, _Shard] = field(default_factory=dict)
    enabled: bool = True
    listed: bool = True

    def open_shard(self) -> _Shard:
        return next(s for s in self.shards.values() if s.end is None)


class StreamsDouble:
    """The `dynamodbstreams` client surface sync uses, plus controls a test drives."""

    def __init__(self, *, empty_pages: int = 0, list_page_size: int = 100) -> None:
        self.empty_pages = empty_pages
        self.list_page_size = list_page_size
        self.streams: dict[str, _Stream] = {}
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)
        self._iterators: dict[str, tuple[str, str, int, int]] = {}
        self.calls: list[tuple[str, str]] = []
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # ApproximateCreationDateTime
        self.before_read: Callable[[str, str], None] | None = None  # (stream ARN, shard id) before GetRecords

    # --- controls -------------------------------------------------------------------------
    def _next_seq(self) -> str:
        return str(10**20 + next(self._seq))

    def enable(self, table: str, arn: str | None = None, label: str | None = None) -> str:
        """A new stream for `table` (as enabling or re-enabling does on AWS): new label, new ARN.

        `arn` adopts an existing ARN (e.g. moto's LatestStreamArn for the table) for the first stream;
        `label` forces one (a label out of order is not AWS behaviour: tests of misbehaving streams).
        """
        if label is None:
            moment = self.clock().replace(tzinfo=None)
            for other in (s for s in self.streams.values() if s.table == table):
                moment = max(moment, datetime.fromisoformat(other.label) + timedelta(milliseconds=1))
            label = moment.isoformat(timespec="milliseconds")
        arn = arn or f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/{label}"
        label = arn.rpartition("/stream/")[2]
        stream = _Stream(arn, table, label)
        self.streams[arn] = stream
        self._new_shard(stream, None)
        return arn

    def disable(self, table: str) -> None:
        """Close the open shard; the stream stays listed and readable (24 h on AWS)."""
        stream = self.latest(table)
        stream.enabled = False
        shard = stream.open_shard()
        shard.end = shard.records[-1]["dynamodb"]["SequenceNumber"] if shard.records else shard.start

    def expire(self, arn: str) -> None:
        """24 h after disable: the old stream is no longer listed or readable."""
        self.streams[arn].listed = False

    def split(self, table: str) -> str:
        """Close the open shard and open a child of it."""
        stream = self.latest(table)
        parent = stream.open_shard()
        parent.end = parent.records[-1]["dynamodb"]["SequenceNumber"] if parent.records else parent.start
        return self._new_shard(stream, parent.shard_id).shard_id

    def trim(self, arn: str, shard_id: str, upto: str | None = None) -> None:
        """Drop records up to `upto` (all if None); a shard left empty and closed is unlisted."""
        shard = self.streams[arn].shards[shard_id]
        cut = upto or (shard.records[-1]["dynamodb"]["SequenceNumber"] if shard.records else shard.start)
        shard.records = [r for r in shard.records if int(r["dynamodb"]["SequenceNumber"]) > int(cut)]
        shard.trimmed_upto = cut
        if upto is None:
            shard.listed = False

    def put(self, table: str, keys: dict[str, Any], new: dict[str, Any] | None, old: dict[str, Any] | None = None):
        """Append one record (INSERT/MODIFY/REMOVE by images) to the table's latest enabled stream."""
        stream = self.latest(table)
        assert stream.enabled, f"{table}: stream disabled; enable() a new one first"
        seq = self._next_seq()
        name = "REMOVE" if new is None else ("MODIFY" if old else "INSERT")
        body: dict[str, Any] = {
            "ApproximateCreationDateTime": self.clock(),
            "Keys": to_ddb(keys),
            "SequenceNumber": seq,
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if new is not None:
            body["NewImage"] = to_ddb(new)
        if old is not None:
            body["OldImage"] = to_ddb(old)
        stream.open_shard().records.append(
            {"eventID": seq, "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb", "dynamodb": body}
        )
        return seq

    def latest(self, table: str) -> _Stream:
        return [s for s in self.streams.values() if s.table == table][-1]

    def _new_shard(self, stream: _Stream, parent: str | None) -> _Shard:
        shard = _Shard(f"shardId-{next(self._ids):020d}-{len(stream.shards):08x}", parent, self._next_seq())
        stream.shards[shard.shard_id] = shard
        return shard

    def _stream(self, arn: str, op: str) -> _Stream:
        stream = self.streams.get(arn)
        if stream is None or not stream.listed:
            raise _error("ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found", op)
        return stream

    # --- the API --------------------------------------------------------------------------
    def list_streams(self, TableName: str | None = None, ExclusiveStartStreamArn: str | None = None, Limit: int = 100):
        rows = [s for s in reversed(list(self.streams.values())) if s.listed and TableName in (None, s.table)]
        if ExclusiveStartStreamArn:
            rows = rows[[s.arn for s in rows].index(ExclusiveStartStreamArn) + 1 :]
        page = rows[: min(Limit, self.list_page_size)]
        out: dict[str, Any] = {
            "Streams": [{"StreamArn": s.arn, "TableName": s.table, "StreamLabel": s.label} for s in page]
        }
        if len(rows) > len(page):
            out["LastEvaluatedStreamArn"] = page[-1].arn
        return out

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None, Limit: int = 100):
        stream = self._stream(StreamArn, "DescribeStream")
        shards = [s.describe() for s in stream.shards.values() if s.listed]
        if ExclusiveStartShardId:
            shards = shards[[s["ShardId"] for s in shards].index(ExclusiveStartShardId) + 1 :]
        return {
            "StreamDescription": {
                "StreamArn": stream.arn,
                "StreamLabel": stream.label,
                "StreamStatus": "ENABLED" if stream.enabled else "DISABLED",
                "TableName": stream.table,
                "Shards": shards[:Limit],
                **({"LastEvaluatedShardId": shards[Limit - 1]["ShardId"]} if len(shards) > Limit else {}),
            }
        }

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str, SequenceNumber=None):
        stream = self._stream(StreamArn, "GetShardIterator")
        shard = stream.shards.get(ShardId)
        if shard is None or not shard.listed:
            raise _error("ResourceNotFoundException", f"shard {ShardId} not found", "GetShardIterator")
        self.calls.append(("iterator", ShardId))
        if ShardIteratorType == "TRIM_HORIZON":
            after = int(shard.trimmed_upto or 0)
        else:
            after = int(SequenceNumber)
            if shard.trimmed_upto is not None and after < int(shard.trimmed_upto):
                raise _error("TrimmedDataAccessException", f"{SequenceNumber} is beyond the trim horizon", "GSI")
        return {"ShardIterator": self._iterator(StreamArn, ShardId, after, self.empty_pages)}

    def get_records(self, ShardIterator: str, Limit: int = 1000):
        arn, shard_id, after, empties = self._iterators[ShardIterator]
        if self.before_read is not None:
            self.before_read(arn, shard_id)
        shard = self._stream(arn, "GetRecords").shards[shard_id]
        self.calls.append(("records", shard_id))
        if shard.trimmed_upto is not None and after < int(shard.trimmed_upto):
            raise _error("TrimmedDataAccessException", "the iterator points at trimmed records", "GetRecords")
        if empties:
            return {"Records": [], "NextShardIterator": self._iterator(arn, shard_id, after, empties - 1)}
        if shard.stuck_iterator:
            return {"Records": [dict(r) for r in shard.records[:Limit]], "NextShardIterator": ShardIterator}
        batch = [r for r in shard.records if int(r["dynamodb"]["SequenceNumber"]) > after][:Limit]
        last = int(batch[-1]["dynamodb"]["SequenceNumber"]) if batch else after
        exhausted = not [r for r in shard.records if int(r["dynamodb"]["SequenceNumber"]) > last]
        ends = shard.end is not None and exhausted and not shard.never_ends
        nxt = None if ends else self._iterator(arn, shard_id, last, 0)
        return {"Records": [dict(r) for r in batch], **({"NextShardIterator": nxt} if nxt else {})}

    def _iterator(self, arn: str, shard_id: str, after: int, empties: int) -> str:
        token = f"it-{len(self._iterators)}"
        self._iterators[token] = (arn, shard_id, after, empties)
        return token
