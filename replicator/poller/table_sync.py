"""One legacy table's streams during sync: every stream ListStreams shows, their shards and cursors.

Disabling and re-enabling a stream creates a new stream (new label); the old one stays readable
for 24 h with closed shards. So sync reads EVERY listed stream of the table, oldest label first,
and finishes a stream before it touches the next (a key's older changes are in the older
stream). Anything it can no longer read is a gap, recorded and reported, never skipped:
- a saved, unfinished position whose shard (or whole stream) is no longer listed;
- a listed shard whose parent is gone and was never read, once sync has run on the table before
  (on the first run, missing parents are history that backfill copies: recorded as such);
- TrimmedDataAccessException while reading (handled by `gap_trimmed`);
- a shard or stream that disappears between listing and reading (`gap_gone`).

Streams are ordered by `streams.reading_order` (closed streams before the open one), not by label
alone: a label order that contradicts the shards' state is recorded in `anomalies`, never looped
on. A cursor that is `stuck` (a stream that misbehaves, see `shard_reader`) is reported in
`unfinished()` and, in continuous sync, retried at the next refresh.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from cutover.clock import iso
from cutover.errors import NotFoundError
from replicator.poller.shard_reader import EMPTY_PAGES, ShardCursor
from replicator.poller.shards import Shard, shard_id
from replicator.poller.streams import StreamView, describe_shards, list_streams, reading_order, unreadable
from replicator.positions import PositionStore

REFRESH_SECONDS = 10.0  # how often to look for new (child) shards and streams while running continuously


class TableSync:
    def __init__(
        self,
        source: str,
        table: str,
        dynamodb: Any,
        streams: Any,
        positions: PositionStore,
        empty_pages: int = EMPTY_PAGES,
        once: bool = False,
    ) -> None:
        self.source = source
        self.table = table
        self._dynamodb = dynamodb
        self._streams = streams
        self._positions = positions
        self._empty_pages = empty_pages
        self.once = once
        self.barrier = datetime.now(UTC) if once else None  # see ShardCursor.past_barrier
        self.views: dict[str, StreamView] = {}  # by ARN, oldest label first
        self.gaps: list[dict[str, Any]] = []  # gaps found by this process
        self.positions_refused = 0  # saves refused because another consumer is further on
        self.meta: dict[str, Any] | None = None  # loaded on first refresh, after the table is known to exist
        self.anomalies: list[str] = []  # what the streams returned that contradicts AWS's documented behaviour
        self.snapshot: set[str] | None = None  # shards listed at the first refresh (what `--once` must drain)
        self._refreshed = 0.0
        self._meta_saved = 0.0

    @property
    def shards(self) -> list[Shard]:
        return [s for v in self.views.values() for s in v.shards]

    @property
    def cursors(self) -> dict[str, ShardCursor]:
        return {sid: c for v in self.views.values() for sid, c in v.cursors.items()}

    @property
    def stream_arn(self) -> str | None:
        return next(reversed(self.views), None)

    def refresh(self, force: bool = False) -> None:
        """Re-list the streams and re-describe their shards (splits, re-enabled streams, trimming)."""
        if not force and time.monotonic() - self._refreshed < REFRESH_SECONDS:
            return
        self._check_table()
        listed = list_streams(self._streams, self.table)
        if not listed and self.snapshot is not None:  # had streams when it started: report, do not wait
            self._lost_every_stream()
            return
        if not listed:
            raise NotFoundError(
                f"legacy table {self.table} has no stream: enable a NEW_AND_OLD_IMAGES stream on it "
                "(cutover init does locally; CDK/console on AWS) and run sync again"
            )
        if self.meta is None:
            self.meta = self._positions.meta(self.source) or {}
        saved = self._positions.shard_positions(self.table)
        first_run = not saved
        found = [self.views.get(s["StreamArn"]) or StreamView(s["StreamArn"], s["StreamLabel"]) for s in listed]
        for view in found:
            view.shards = describe_shards(self._streams, view.arn)
        ordered, problems = reading_order(found)
        self.anomalies += [p for p in problems if p not in self.anomalies]
        views = {view.arn: view for view in ordered}
        self._find_gaps(saved, views, first_run)
        for view in views.values():
            for shard in view.shards:
                cursor = view.cursors.get(shard_id(shard))
                if cursor is None:
                    view.cursors[shard_id(shard)] = ShardCursor(
                        self._streams, self.table, view.arn, shard, saved.get(shard_id(shard)), self._empty_pages
                    )
                    view.cursors[shard_id(shard)].barrier = self.barrier
                else:
                    cursor.update(shard)
                    if cursor.stuck and not self.once:
                        cursor.retry()  # continuous sync tries a stuck shard again at every refresh
        self.views = views
        if self.snapshot is None:
            self.snapshot = set(self.cursors)
        self._refreshed = time.monotonic()

    def _lost_every_stream(self) -> None:
        why = "no stream is listed any more (disabled and expired, or the table was re-created)"
        if why not in self.anomalies:
            self.anomalies.append(why)
        self.views = {}
        self._refreshed = time.monotonic()

    def _find_gaps(self, saved: dict[str, dict[str, Any]], views: dict[str, StreamView], first_run: bool) -> None:
        for lost in unreadable(saved, views, first_run):
            if lost.history:  # before sync ever ran on this table: backfill's job, not a gap
                self._positions.save_shard(self.table, lost.shard, stream_arn=lost.arn, sequence=None, closed=True,
                                           done=True)  # fmt: skip
                saved[lost.shard] = {"stream_arn": lost.arn, "done": True}
            else:
                saved[lost.shard] = self._gap(lost.arn, lost.shard, lost.after, lost.why)

    def _gap(self, arn: str, shard: str, after: str | None, why: str) -> dict[str, Any]:
        self.gaps.append(self._positions.record_gap(self.table, arn, shard, after, why))
        self._positions.save_shard(self.table, shard, stream_arn=arn, sequence=after, closed=True, done=True, gap=True)
        return {"stream_arn": arn, "sequence": after, "done": True, "gap": True}

    def gap_trimmed(self, cursor: ShardCursor) -> None:
        """GetRecords/GetShardIterator said trimmed: record the gap, resume at the trim horizon."""
        self.gaps.append(
            self._positions.record_gap(self.table, cursor.stream_arn, cursor.shard_id, cursor.sequence, "trimmed")
        )
        cursor.from_horizon = True
        cursor.rewind()

    def gap_gone(self, cursor: ShardCursor) -> None:
        """The shard or its stream disappeared before it was read to its end: a gap; re-list."""
        if not cursor.done:
            cursor.done = cursor.at_end = True
            self._gap(cursor.stream_arn, cursor.shard_id, cursor.sequence, "shard disappeared while reading")
        self.refresh(force=True)

    def _check_table(self) -> None:
        try:
            self._dynamodb.describe_table(TableName=self.table)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            raise NotFoundError(
                f"legacy table {self.table} does not exist: check --service/--stage, or run `cutover "
                f"init` on a local endpoint"
            ) from exc

    def readable_cursors(self) -> list[ShardCursor]:
        """The readable shards of the OLDEST stream that is not finished (`reading_order`).

        With `once`, only shards listed at the start: a shard created later holds only records
        written after `--once` began, which it need not drain (continuous sync reads them).
        """
        for view in self.views.values():
            if not view.finished:
                cursors = view.readable_cursors()
                return [c for c in cursors if self.snapshot is None or c.shard_id in self.snapshot or not self.once]
        return []

    def settled(self, max_pages: int) -> bool:
        """`--once` can stop: every shard it may read now is caught up, past the barrier, stuck or out
        of pages. Shards that wait for one of those are reported by `unfinished`, not waited for."""
        if not self.views:
            return self.snapshot is not None  # every stream it knew is gone: nothing left to read
        return all(c.caught_up or c.past_barrier or c.stuck or c.pages >= max_pages for c in self.readable_cursors())

    def unfinished(self, max_pages: int) -> list[dict[str, Any]]:
        """Shards listed at the start that this run did not read to the end of what exists, and why."""
        out = []
        for cursor in self.cursors.values():
            if cursor.caught_up or cursor.past_barrier or (self.snapshot is not None and cursor.shard_id not in
                                                           self.snapshot):  # fmt: skip
                continue
            if cursor.stuck:
                why = cursor.stuck
            elif cursor.pages >= max_pages:
                why = f"read {cursor.pages:,} pages (the --max-pages limit) and not at the end yet"
            else:
                why = "not read: it waits for an older shard or stream that did not finish"
            out.append({"table": self.table, "stream_arn": cursor.stream_arn, "shard": cursor.shard_id, "why": why})
        return out

    @property
    def caught_up(self) -> bool:
        """Every shard of every stream is done, or open and caught up (False before the first look)."""
        return bool(self.views) and all(c.caught_up and not (c.closed and not c.done) for c in self.cursors.values())

    def checkpoint(self, cursor: ShardCursor, sequence: str | None, done: bool = False) -> None:
        cursor.sequence = sequence if sequence is not None else cursor.sequence
        cursor.done = cursor.done or done
        if sequence is not None:
            cursor.from_horizon = False
        saved = self._positions.save_shard(
            self.table,
            cursor.shard_id,
            stream_arn=cursor.stream_arn,
            sequence=cursor.sequence,
            closed=cursor.closed,
            done=cursor.done,
            caught_up_at=cursor.caught_up_at,
            applied_created_at=cursor.applied_created_at,
        )
        if not saved:  # another consumer is further on: never move its position back
            self.positions_refused += 1

    def save_marks(self) -> None:
        """Persist each caught-up open shard's mark: the gate's lag is computed from these."""
        for cursor in self.cursors.values():
            if cursor.caught_up and not cursor.done and cursor.caught_up_at is not None:
                self.checkpoint(cursor, None)

    def note_applied(self, sequence: str, created: datetime | None, lag_s: float | None) -> None:
        assert self.meta is not None, "records are read only after refresh()"
        self.meta.update(last_sequence=sequence, last_applied_at=iso(datetime.now(UTC)))
        if created is not None:
            self.meta["last_record_created_at"] = iso(created)
        if lag_s is not None:
            self.meta["lag_seconds"] = round(lag_s, 3)
        self.save_meta()

    def save_meta(self, every: float = 0.0) -> None:
        """Persist the last-pass summary and shard marks; `every` rate-limits writes from an idle loop."""
        now = time.monotonic()
        if self.meta is None or (every and now - self._meta_saved < every):
            return
        if self.caught_up:
            self.meta["caught_up_at"] = iso(datetime.now(UTC))
        self.save_marks()
        self.meta.update(
            table=self.table,
            stream_arn=self.stream_arn,
            streams=len(self.views),
            shards=len(self.shards),
            shards_done=sum(1 for c in self.cursors.values() if c.done),
            gaps=len(self.gaps),
            stuck=[{"shard": c.shard_id, "why": c.stuck} for c in self.cursors.values() if c.stuck],
            anomalies=list(self.anomalies),
            last_run_at=iso(datetime.now(UTC)),
        )
        self._positions.save_meta(self.source, self.meta)
        self._meta_saved = now
