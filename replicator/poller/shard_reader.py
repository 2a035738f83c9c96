"""Reading one stream shard from its saved position: iterators, expiry, trimming and "caught up".

A cursor starts AFTER the checkpointed sequence number (or at TRIM_HORIZON the first time, or
after a gap) and keeps its iterator between polls. When is a shard read? (DESIGN.md, "Evidence
and the flip gate"):
- a closed shard is finished only when GetRecords returns no NextShardIterator;
- an open shard is caught up after `empty_pages` CONSECUTIVE empty pages, each returned with a
  new NextShardIterator. One empty page proves nothing: AWS documents that GetRecords may return
  an empty list while the iterator walks towards records ("it might take multiple calls").
Reading a trimmed position raises `ShardTrimmed`: the caller records a gap and resumes at the
trim horizon, it never skips silently.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from cutover.errors import CutoverError
from replicator.poller.shards import Shard, is_closed, shard_id

EMPTY_PAGES = 3  # consecutive empty pages on an open shard before it counts as caught up


class ShardTrimmed(CutoverError):
    """Records after the cursor's position were trimmed (24 h retention) before sync applied them."""

    def __init__(self, cursor: ShardCursor) -> None:
        super().__init__(
            f"{cursor.table}: stream records after sequence {cursor.sequence} in shard {cursor.shard_id} were "
            "trimmed (24 h retention) before sync applied them: a gap. Run `cutover reconcile --repair` "
            "(full, no --sample) after sync has caught up; the flip gate refuses v3 until then"
        )
        self.cursor = cursor


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
        self._iterator: str | None = None

    @property
    def caught_up(self) -> bool:
        return self.done or self.at_end or (not self.closed and self.empty_streak >= self.empty_pages)

    def update(self, shard: Shard) -> None:
        """A refreshed description may show the shard has closed since it was first seen."""
        self.closed = self.closed or is_closed(shard)

    def rewind(self) -> None:
        """Forget the iterator: the next read restarts just after the checkpointed record."""
        self._iterator = None
        self.at_end = self.done
        self.empty_streak = 0

    def read(self, limit: int) -> list[dict[str, Any]]:
        """The next batch (possibly empty). Raises ShardTrimmed if the position was trimmed."""
        for attempt in range(2):
            if self._iterator is None:
                self._iterator = self._new_iterator()
            try:
                resp = self._streams.get_records(ShardIterator=self._iterator, Limit=limit)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code == "ExpiredIteratorException" and attempt == 0:
                    self._iterator = None  # iterators live 15 minutes; get a fresh one from the position
                    continue
                if code == "TrimmedDataAccessException":
                    self._iterator = None
                    raise ShardTrimmed(self) from exc
                raise
            records = list(resp.get("Records", []))
            self._iterator = resp.get("NextShardIterator")
            if self._iterator is None:
                self.at_end = True
                self.closed = True
            self.empty_streak = 0 if records else self.empty_streak + 1
            if self.caught_up:
                self.caught_up_at = datetime.now(UTC)
            return records
        return []

    def _new_iterator(self) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": self.shard_id}
        if self.sequence is None or self.from_horizon:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self.sequence)
        try:
            return self._streams.get_shard_iterator(**kwargs)["ShardIterator"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TrimmedDataAccessException":
                raise ShardTrimmed(self) from exc
            raise
