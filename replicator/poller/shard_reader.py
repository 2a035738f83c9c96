"""Reading one stream shard from its saved position: iterators, expiry, trimming and "caught up".

A cursor starts AFTER the checkpointed sequence number (or at TRIM_HORIZON the first time, or
after a gap) and keeps its iterator between polls. When is a shard read? (DESIGN.md, "Evidence
and the flip gate"):
- a closed shard is finished only when GetRecords returns no NextShardIterator;
- an open shard is caught up after `empty_pages` CONSECUTIVE empty pages, each returned with a
  new NextShardIterator. One empty page proves nothing: AWS documents that GetRecords may return
  an empty list while the iterator walks towards records ("it might take multiple calls").
Reading a trimmed position raises `ShardTrimmed`: the caller records a gap and resumes at the
trim horizon, it never skips silently. A shard (or its whole stream) that disappears between
DescribeStream and the read raises `ShardGone`: also a gap.

A cursor never loops on a stream that misbehaves. It is marked `stuck` (and read no further
until the caller retries it) when a CLOSED shard returns `CLOSED_EMPTY_LIMIT` empty pages in a
row without ending (AWS ends a closed shard with a null NextShardIterator), or when
`NO_PROGRESS_LIMIT` pages in a row hold only records at or before the cursor's position (an
iterator that keeps coming back). Those records are not delivered again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from cutover.errors import CutoverError
from replicator.poller.shards import Shard, is_closed, shard_id

EMPTY_PAGES = 3  # consecutive empty pages on an open shard before it counts as caught up
CLOSED_EMPTY_LIMIT = 50  # consecutive empty pages on a closed shard before it is reported stuck
NO_PROGRESS_LIMIT = 3  # consecutive pages of already-applied records before the shard is reported stuck


class ShardTrimmed(CutoverError):
    """Records after the cursor's position were trimmed (24 h retention) before sync applied them."""

    def __init__(self, cursor: ShardCursor) -> None:
        super().__init__(
            f"{cursor.table}: stream records after sequence {cursor.sequence} in shard {cursor.shard_id} were "
            "trimmed (24 h retention) before sync applied them: a gap. Run `cutover reconcile --repair` "
            "(full, no --sample) after sync has caught up; the flip gate refuses v3 until then"
        )
        self.cursor = cursor


class ShardGone(CutoverError):
    """The shard or its stream was no longer there when read (expired or deleted after listing)."""

    def __init__(self, cursor: ShardCursor) -> None:
        super().__init__(
            f"{cursor.table}: shard {cursor.shard_id} of stream {cursor.stream_arn} disappeared before sync "
            f"read past sequence {cursor.sequence}: a gap. Run `cutover reconcile --repair` (full) once sync "
            "has caught up; the flip gate refuses v3 until then"
        )
        self.cursor = cursor


def _seq(sequence: str | None) -> int:
    return int(sequence) if sequence and sequence.isdigit() else -1


class ShardCursor:
    def __init__(
        self,
        streams: Any,
        table: str,
        stream_arn: str,
        shard: Shard,
        position: dict[str, Any] | None,
        empty_pages: int = EMPTY_PAGES,
    ) -> None:
        self._streams = streams
        self.table = table
        self.stream_arn = stream_arn
        self.shard_id = shard_id(shard)
        self.closed = is_closed(shard)
        same_stream = bool(position) and position.get("stream_arn") == stream_arn  # type: ignore[union-attr]
        self.sequence: str | None = position.get("sequence") if same_stream else None  # type: ignore[union-attr]
        self.done: bool = bool(position.get("done")) if same_stream else False  # type: ignore[union-attr]
        self.at_end = self.done  # the shard returned no NextShardIterator: closed and fully read
        self.empty_pages = max(1, empty_pages)
        self.empty_streak = 0
        self.caught_up_at: datetime | None = None  # last time this cursor saw the end of what exists
        self.applied_created_at: datetime | None = None  # creation time of the newest applied record
        self.from_horizon = False  # after a gap: restart at TRIM_HORIZON, not after `sequence`
        self.pages = 0  # GetRecords calls made by this cursor
        self.barrier: datetime | None = None  # `--once`: records created from here on need not be drained
        self.stuck: str | None = None  # why the shard is not read further (a stream that misbehaves)
        self._closed_empty = 0
        self._no_progress = 0
        self._iterator: str | None = None

    @property
    def caught_up(self) -> bool:
        return self.done or self.at_end or (not self.closed and self.empty_streak >= self.empty_pages)

    @property
    def past_barrier(self) -> bool:
        """Applied a record created at or after the barrier: everything before it is applied.

        How `--once` ends on a shard that takes writes faster than it drains (it is never empty).
        Creation times are DynamoDB's clock, the barrier this machine's: a clock that runs behind
        can end `--once` early by the skew. It is never evidence: the flip gate reads `caught_up`.
        """
        return (
            self.barrier is not None
            and self.applied_created_at is not None
            and (self.applied_created_at >= self.barrier)
        )

    def update(self, shard: Shard) -> None:
        """A refreshed description may show the shard has closed since it was first seen."""
        self.closed = self.closed or is_closed(shard)

    def rewind(self) -> None:
        """Forget the iterator: the next read restarts just after the checkpointed record."""
        self._iterator = None
        self.at_end = self.done
        self.empty_streak = 0
        self._closed_empty = 0
        self._no_progress = 0

    def retry(self) -> None:
        """Read a stuck shard again from its checkpoint (continuous sync, after a refresh)."""
        self.stuck = None
        self.rewind()

    def read(self, limit: int) -> list[dict[str, Any]]:
        """The next batch of records after the position (possibly empty); [] once stuck.

        Raises ShardTrimmed if the position was trimmed, ShardGone if the shard disappeared.
        """
        if self.stuck:
            return []
        for attempt in range(2):
            if self._iterator is None:
                self._iterator = self._new_iterator()
            self.pages += 1
            try:
                resp = self._streams.get_records(ShardIterator=self._iterator, Limit=limit)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code == "ExpiredIteratorException" and attempt == 0:
                    self._iterator = None  # iterators live 15 minutes; get a fresh one from the position
                    continue
                self._iterator = None
                if code == "TrimmedDataAccessException":
                    raise ShardTrimmed(self) from exc
                if code == "ResourceNotFoundException":
                    raise ShardGone(self) from exc
                raise
            page = list(resp.get("Records", []))
            records = self._new_records(page)
            self._iterator = resp.get("NextShardIterator")
            if self._iterator is None:
                self.at_end = True
                self.closed = True
            self.empty_streak = 0 if page else self.empty_streak + 1  # repeated records are not "empty"
            self._closed_empty = 0 if page or not self.closed else self._closed_empty + 1
            if self.closed and not self.at_end and self._closed_empty >= CLOSED_EMPTY_LIMIT:
                self.stuck = f"closed shard returned {self._closed_empty} empty pages without ending"
            if self.caught_up:
                self.caught_up_at = datetime.now(UTC)
            return records
        return []

    def _new_records(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Only records after the position; a run of pages with none is an iterator that does not advance."""
        after = _seq(self.sequence)
        fresh = [r for r in records if _seq(r.get("dynamodb", {}).get("SequenceNumber")) > after]
        if records and not fresh:
            self._no_progress += 1
            if self._no_progress >= NO_PROGRESS_LIMIT:
                self.stuck = (
                    f"{self._no_progress} pages in a row returned only records at or before sequence "
                    f"{self.sequence} (the iterator does not advance)"
                )
        else:
            self._no_progress = 0
        return fresh

    def _new_iterator(self) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": self.shard_id}
        if self.sequence is None or self.from_horizon:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self.sequence)
        try:
            return str(self._streams.get_shard_iterator(**kwargs)["ShardIterator"])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "TrimmedDataAccessException":
                raise ShardTrimmed(self) from exc
            if code == "ResourceNotFoundException":
                raise ShardGone(self) from exc
            raise
