"""Reading one stream shard from its saved position: iterators, expiry and the end of a shard.

A cursor starts AFTER the checkpointed sequence number (or at TRIM_HORIZON the first time) and
keeps its iterator between polls. An open shard returning no records is caught up; a closed
shard is finished when GetRecords returns no NextShardIterator.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cutover.errors import BackendError
from replicator.poller.shards import Shard, is_closed, shard_id


class ShardCursor:
    def __init__(
        self, streams: Any, table: str, stream_arn: str, shard: Shard, position: dict[str, Any] | None
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
        self.caught_up = False
        self._iterator: str | None = None

    def update(self, shard: Shard) -> None:
        """A refreshed description may show the shard has closed since it was first seen."""
        self.closed = self.closed or is_closed(shard)

    def rewind(self) -> None:
        """Forget the iterator: the next read restarts just after the checkpointed record."""
        self._iterator = None
        self.at_end = self.done

    def read(self, limit: int) -> list[dict[str, Any]]:
        """The next batch (possibly empty). Raises BackendError if the saved position was trimmed."""
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
                    raise self._trimmed() from exc
                raise
            records = list(resp.get("Records", []))
            self._iterator = resp.get("NextShardIterator")
            if self._iterator is None:
                self.at_end = True
                self.closed = True
            self.caught_up = not records
            return records
        return []

    def _new_iterator(self) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": self.shard_id}
        if self.sequence is None:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self.sequence)
        try:
            return self._streams.get_shard_iterator(**kwargs)["ShardIterator"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TrimmedDataAccessException":
                raise self._trimmed() from exc
            raise

    def _trimmed(self) -> BackendError:
        return BackendError(
            f"{self.table}: stream records after sequence {self.sequence} in shard {self.shard_id} were trimmed "
            "(24 h retention) before sync applied them; run `cutover backfill` to fill the gap, then "
            f"delete the shard's checkpoint (pk stream#{self.table}) and run `cutover sync` again"
        )
