"""One legacy table's stream during sync: its shards, their cursors and its last-pass summary."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from cutover.clock import iso
from cutover.errors import NotFoundError
from replicator.poller.shard_reader import ShardCursor
from replicator.poller.shards import Shard, readable, shard_id
from replicator.positions import PositionStore

REFRESH_SECONDS = 10.0  # how often to look for new (child) shards while running continuously


class TableSync:
    def __init__(self, source: str, table: str, dynamodb: Any, streams: Any, positions: PositionStore) -> None:
        self.source = source
        self.table = table
        self._dynamodb = dynamodb
        self._streams = streams
        self._positions = positions
        self.stream_arn: str | None = None
        self.shards: list[Shard] = []
        self.cursors: dict[str, ShardCursor] = {}
        self.meta: dict[str, Any] | None = None  # loaded on first refresh, after the table is known to exist
        self._refreshed = 0.0
        self._meta_saved = 0.0

    def refresh(self, force: bool = False) -> None:
        """Re-describe the stream (new shards appear when DynamoDB splits or rolls shards)."""
        if not force and time.monotonic() - self._refreshed < REFRESH_SECONDS:
            return
        try:
            desc = self._dynamodb.describe_table(TableName=self.table)["Table"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            raise NotFoundError(
                f"legacy table {self.table} does not exist: check --service/--stage, or run `cutover "
                f"init` on a local endpoint"
            ) from exc
        arn = desc.get("LatestStreamArn")
        if not arn or not desc.get("StreamSpecification", {}).get("StreamEnabled", True):
            raise NotFoundError(
                f"legacy table {self.table} has no stream: enable a NEW_AND_OLD_IMAGES stream on it "
                "(cutover init does locally; CDK/console on AWS) and run sync again"
            )
        if self.meta is None:
            self.meta = self._positions.meta(self.source) or {}
        if arn != self.stream_arn:
            self.stream_arn, self.cursors = arn, {}
        self.shards = self._describe_shards(arn)
        saved = self._positions.shard_positions(self.table)
        for shard in self.shards:
            cursor = self.cursors.get(shard_id(shard))
            if cursor is None:
                self.cursors[shard_id(shard)] = ShardCursor(
                    self._streams, self.table, arn, shard, saved.get(shard_id(shard))
                )
            else:
                cursor.update(shard)
        self._refreshed = time.monotonic()

    def _describe_shards(self, arn: str) -> list[Shard]:
        shards: list[Shard] = []
        kwargs: dict[str, Any] = {"StreamArn": arn}
        while True:
            desc = self._streams.describe_stream(**kwargs)["StreamDescription"]
            shards += desc.get("Shards", [])
            last = desc.get("LastEvaluatedShardId")
            if not last:
                return shards
            kwargs["ExclusiveStartShardId"] = last

    def readable_cursors(self) -> list[ShardCursor]:
        done = {sid for sid, c in self.cursors.items() if c.done}
        return [self.cursors[shard_id(s)] for s in readable(self.shards, done)]

    @property
    def caught_up(self) -> bool:
        """Every shard is done, or open and its last read returned nothing (False before the first look)."""
        return self.stream_arn is not None and all(c.caught_up and not c.closed for c in self.readable_cursors())

    def checkpoint(self, cursor: ShardCursor, sequence: str | None, done: bool = False) -> None:
        cursor.sequence = sequence if sequence is not None else cursor.sequence
        cursor.done = cursor.done or done
        self._positions.save_shard(
            self.table,
            cursor.shard_id,
            stream_arn=cursor.stream_arn,
            sequence=cursor.sequence,
            closed=cursor.closed,
            done=cursor.done,
        )

    def note_applied(self, sequence: str, created: datetime | None, lag_s: float | None) -> None:
        assert self.meta is not None, "records are read only after refresh()"
        self.meta.update(last_sequence=sequence, last_applied_at=iso(datetime.now(UTC)))
        if created is not None:
            self.meta["last_record_created_at"] = iso(created)
        if lag_s is not None:
            self.meta["lag_seconds"] = round(lag_s, 3)
        self.save_meta()

    def save_meta(self, every: float = 0.0) -> None:
        """Persist the last-pass summary; `every` rate-limits writes from an idle polling loop."""
        now = time.monotonic()
        if self.meta is None or (every and now - self._meta_saved < every):
            return
        if self.caught_up:
            self.meta["caught_up_at"] = iso(datetime.now(UTC))
        self.meta.update(
            table=self.table,
            stream_arn=self.stream_arn,
            shards=len(self.shards),
            shards_done=sum(1 for c in self.cursors.values() if c.done),
            last_run_at=iso(datetime.now(UTC)),
        )
        self._positions.save_meta(self.source, self.meta)
        self._meta_saved = now
