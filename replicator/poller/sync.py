"""Continuous local sync: read the legacy streams and feed the Lambda handler, checkpointing as it goes.

Runs the SAME `Replicator.handle` as the Lambda function, with Lambda-shaped events, so local
sync and production replication cannot disagree. Guarantees:
- a record is checkpointed only after the handler applied it; a restart resumes just after the
  checkpoint, so nothing is skipped, and a crash between apply and checkpoint re-applies at most
  one batch, which the v3 version guard makes harmless;
- on `batchItemFailures` the records before the first failure are checkpointed and the rest is
  retried with exponential backoff and full jitter (as Lambda does); after `max_attempts` sync
  stops with an error at that record rather than skipping it;
- shards are read in lineage order (`replicator.poller.shards`), every stream of a table oldest
  label first (`replicator.poller.table_sync`); what can no longer be read is a GAP, recorded
  in the positions store and returned in `SyncResult.gaps`, never skipped silently;
- `once` ends when every shard is caught up by the rule in `shard_reader` (an empty page alone
  is not enough), and it always ends: see `run_sync` for the bound.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cutover.clients import Clients
from cutover.errors import CutoverError
from cutover.progress import NullStatus, StatusDisplay
from cutover.retry import backoff_delay
from cutover.settings import Settings
from cutover.state import CheckpointStore
from replicator.batch import BatchResult
from replicator.poller.lambda_events import created_at, sequence_number, to_lambda_event
from replicator.poller.shard_reader import EMPTY_PAGES, ShardCursor, ShardGone, ShardTrimmed
from replicator.poller.sync_stats import SyncResult
from replicator.poller.table_sync import TableSync
from replicator.positions import PositionStore


class SyncStalledError(CutoverError):
    """A record kept failing; sync stopped at it instead of skipping it."""


@dataclass(frozen=True)
class SyncOptions:
    batch_size: int = 250  # GetRecords Limit (AWS max 1000); one checkpoint per batch
    poll_interval: float = 0.5  # idle sleep between polls when every shard is caught up
    max_attempts: int = 8  # deliveries of one failing record before sync stops (never skips)
    base_backoff: float = 0.1
    max_backoff: float = 5.0
    meta_every: float = 2.0  # idle-loop rate limit for the per-table summary document
    empty_pages: int = EMPTY_PAGES  # consecutive empty pages before an open shard is caught up
    max_pages: int = 100_000  # `once`: GetRecords calls per shard before it stops and says so (resumable)


def run_sync(
    settings: Settings,
    clients: Clients,
    *,
    once: bool,
    stop_event: threading.Event | None = None,
    progress: StatusDisplay | None = None,
    replicator: Any = None,
    options: SyncOptions | None = None,
) -> SyncResult:
    """Apply the legacy streams to v3 until caught up (`once`) or until `stop_event` is set.

    `once` is bounded by construction, whatever the streams return: it reads only the shards
    listed when it starts (S), each at most `max_pages` times (P), so it makes at most S x P
    GetRecords calls (and as many GetShardIterator calls again, twice that after expired
    iterators), plus one ListStreams/DescribeStream round per finished shard and per 10 s. A
    shard stops being read when it is caught up, has applied a record created after the start,
    is stuck (a closed shard that never ends, an iterator that does not advance) or reached P.
    What it could not finish is in `SyncResult.unfinished` (the CLI exits 1 and names it).
    """
    opts = options or SyncOptions()
    stop = stop_event or threading.Event()
    names = settings.names
    owned = replicator is None
    if replicator is None:
        from replicator.handler import Replicator, ReplicatorConfig

        replicator = Replicator(ReplicatorConfig.from_names(names), clients.dynamodb)
    try:
        return _run(settings, clients, once, stop, progress, replicator, opts)
    finally:
        if owned:
            replicator.close()


def _run(
    settings: Settings,
    clients: Clients,
    once: bool,
    stop: threading.Event,
    progress: StatusDisplay | None,
    replicator: Any,
    opts: SyncOptions,
) -> SyncResult:
    names = settings.names
    positions = PositionStore(CheckpointStore(clients.dynamodb, names.checkpoints_table), tables=names.source_tables())
    tables = [
        TableSync(s, names.source_table(s), clients.dynamodb, clients.streams, positions, opts.empty_pages, once)
        for s in names.roles
    ]
    result = SyncResult(tables={t.source: 0 for t in tables})
    delivery = _Delivery(replicator, clients.region, result, opts, stop)
    with progress or NullStatus() as show:
        while not stop.is_set():
            busy = False
            for table in tables:
                table.refresh(force=not table.shards)
                busy = _poll(table, delivery, opts) or busy
                table.save_meta(every=0.0 if once else opts.meta_every)
            show(result, tables)
            if once and all(t.settled(opts.max_pages) for t in tables):
                break
            if not busy:
                stop.wait(opts.poll_interval)
    for table in tables:
        table.save_meta()
        result.gaps += table.gaps
        result.positions_refused += table.positions_refused
        result.unfinished += table.unfinished(opts.max_pages) if once else []
        result.anomalies += [{"table": table.table, "why": why} for why in table.anomalies]
    result.consumer = positions.consumer
    result.finished = time.monotonic()
    return result


def once_done(cursor: ShardCursor, opts: SyncOptions, once: bool) -> bool:
    """`--once` reads this shard no further: past its barrier, stuck or out of pages."""
    return once and (cursor.past_barrier or bool(cursor.stuck) or cursor.pages >= opts.max_pages)


def _poll(table: TableSync, delivery: _Delivery, opts: SyncOptions) -> bool:
    """Read one batch from every readable shard; True if any records were read."""
    busy = False
    for cursor in table.readable_cursors():
        if once_done(cursor, opts, table.once):
            continue
        try:
            records = cursor.read(opts.batch_size)
        except ShardTrimmed:
            table.gap_trimmed(cursor)  # recorded and reported; reading resumes at the trim horizon
            busy = True
            continue
        except ShardGone:
            table.gap_gone(cursor)  # recorded and reported; the refresh shows what is left
            return True
        delivery.result.records_read += len(records)
        if records:
            busy = True
            if not delivery.deliver(table, cursor, records):
                cursor.rewind()
                return busy
        if cursor.at_end and not cursor.done:
            table.checkpoint(cursor, None, done=True)
            table.refresh(force=True)  # a finished parent makes its children readable
            busy = True
    return busy


class _Delivery:
    def __init__(
        self, replicator: Any, region: str, result: SyncResult, opts: SyncOptions, stop: threading.Event
    ) -> None:
        self.replicator = replicator
        self.region = region
        self.result = result
        self.opts = opts
        self.stop = stop

    def deliver(self, table: TableSync, cursor: ShardCursor, records: list[dict[str, Any]]) -> bool:
        """Apply `records` in order, checkpointing what succeeded. False if stopped while retrying."""
        pending = records
        attempt = 0
        while True:
            batch, error = self._handle(pending, cursor.stream_arn)
            failed = {f["itemIdentifier"] for f in batch.failures()} if batch is not None else None
            if failed is None:
                first: int | None = 0  # the whole batch failed
            else:
                first = next((i for i, r in enumerate(pending) if sequence_number(r) in failed), None)
                if failed and first is None:
                    first = 0  # a failure id we do not recognise: retry the whole remainder
            done = pending if first is None else pending[:first]
            if done and batch is not None:
                self.result.add_done(batch.results[: len(done)])
                self._applied(table, cursor, done)
            if first is None:
                return True
            pending = pending[first:]
            attempt += 1
            self.result.failed_retried += len(pending)
            if attempt >= self.opts.max_attempts:
                raise SyncStalledError(
                    f"{table.table}: record {sequence_number(pending[0])} of shard {cursor.shard_id} failed "
                    f"{attempt} times{f' (last error: {error})' if error else ''}; sync stopped there and skipped "
                    "nothing. Fix the cause (replicator log) and run `cutover sync` again to resume from it"
                )
            delay = backoff_delay(attempt, base=self.opts.base_backoff, cap=self.opts.max_backoff)
            if self.stop.wait(delay):
                return False

    def _handle(self, records: list[dict[str, Any]], stream_arn: str) -> tuple[BatchResult | None, str | None]:
        """The batch's own result (None if it failed as a whole), as Lambda's handler would see it."""
        self.result.batches += 1
        try:
            return self.replicator.process(to_lambda_event(records, stream_arn, self.region)["Records"]), None
        except CutoverError:
            raise  # configuration problems do not heal by retrying
        except Exception as exc:  # noqa: BLE001 - the whole batch failed; retried like Lambda would
            return None, f"{type(exc).__name__}: {exc}"

    def _applied(self, table: TableSync, cursor: ShardCursor, records: list[dict[str, Any]]) -> None:
        now = datetime.now(UTC)
        newest = None
        for record in records:
            moment = created_at(record)
            if moment is not None:
                self.result.add_lag(max(0.0, (now - moment).total_seconds() * 1000))
                newest = moment if newest is None else max(newest, moment)
        self.result.tables[table.source] = self.result.tables.get(table.source, 0) + len(records)
        last = sequence_number(records[-1])
        if newest is not None:
            cursor.applied_created_at = max(newest, cursor.applied_created_at or newest)
        table.checkpoint(cursor, last)
        table.note_applied(last, newest, None if newest is None else (now - newest).total_seconds())
