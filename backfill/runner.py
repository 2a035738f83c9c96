"""`run_backfill`: every segment of every chosen table through a worker pool, then one report.

Workers run segments (`backfill.segment.run_segment_on`); all segments share one pool of write
threads and one token bucket, so `--workers`, `--write-threads` and `--rate` are run-wide.
Ctrl-C stops each worker after its current page (checkpointed) and re-raises; the next run
resumes every unfinished segment and skips finished ones. One run at a time: a run holds the
backfill lease (`backfill.lease`), renewed from a thread and released however it ends.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from backfill.checkpoint import COUNT_NAMES, SegmentCheckpoints
from backfill.errors import LeaseHeldError, LeaseLostError, SyncNeverRanError
from backfill.lease import LOCAL_TTL, BackfillLease, dead_here, heartbeat, local_holder
from backfill.runs import plan_run
from backfill.segment import SegmentResult, run_segment_on
from cutover.clients import Clients
from cutover.clock import utc_now
from cutover.errors import InvalidSegmentError
from cutover.progress import NullProgress, ProgressSink, item_count
from cutover.rate import TokenBucket
from cutover.retry import call_with_retry
from cutover.settings import Settings
from cutover.state import BACKFILL_RUN, CheckpointStore, ReportStore
from cutover.tables import Tables, check_source


@dataclass
class TableSummary:
    scanned: int = 0
    written: int = 0
    already_filled: int = 0  # filled by an earlier page that crashed before its checkpoint (or before --restart)
    skipped_newer: int = 0
    quarantined: int = 0
    not_migrated: int = 0  # source items the definition's transform migrates to nothing
    seconds: float = 0.0
    segments_done: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "scanned": self.scanned,
            "written": self.written,
            "already_filled": self.already_filled,
            "skipped_newer": self.skipped_newer,
            "quarantined": self.quarantined,
            "not_migrated": self.not_migrated,
            "seconds": round(self.seconds, 3),
            "segments_done": self.segments_done,
        }


@dataclass
class BackfillSummary:
    """Counts are cumulative per table over the current run (a resume adds up; a new run starts at 0)."""

    run_id: str
    started_at: str
    finished_at: str
    segments: int
    tables: dict[str, TableSummary] = field(default_factory=dict)
    complete: bool = False
    scanned_this_run: int = 0
    seconds: float = 0.0
    plans: dict[str, dict[str, str]] = field(default_factory=dict)  # per table: resumed, new or restarted

    @property
    def items_per_second(self) -> float:
        return self.scanned_this_run / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "segments": self.segments,
            "complete": self.complete,
            "tables": {name: t.to_dict() for name, t in self.tables.items()},
            "scanned_this_run": self.scanned_this_run,
            "plans": self.plans,
            "seconds": round(self.seconds, 3),
            "items_per_second": round(self.items_per_second, 1),
        }


def run_backfill(
    settings: Settings,
    clients: Clients,
    *,
    tables: tuple[str, ...] | None = None,
    segments: int = 8,
    workers: int = 4,
    write_threads: int = 32,
    rate: float | None = None,
    restart: bool = False,
    require_sync: bool = True,
    progress: ProgressSink | None = None,
    only_segment: int | None = None,
    page_size: int | None = None,
    announce: Callable[[str], None] | None = None,
    command: str = "cutover backfill",
    steal_lease: bool = False,
) -> BackfillSummary:
    """Backfill the source roles `tables` (None: every source of the migration) and record the run.
    `only_segment` runs that one segment. The run holds the backfill lease (`backfill.lease`) from
    before it plans until it returns or raises; `command` is what a refused second run is told.

    Raises:
        SyncNeverRanError: `require_sync` and replication has never checkpointed a chosen table.
        InvalidSegmentError: `segments` < 1 or `only_segment` outside 0..segments-1.
        LeaseHeldError: another backfill (local or remote) holds the lease, and not `steal_lease`.
        LeaseLostError: the lease expired unrenewed and another run took it; this one stopped.
    """
    names = Tables.from_names(settings.names)
    sources = names.roles if tables is None else tuple(check_source(t, names.roles) for t in tables)
    if segments < 1 or (only_segment is not None and not 0 <= only_segment < segments):
        raise InvalidSegmentError(only_segment, segments)
    if require_sync:
        _require_sync(clients.dynamodb, names, sources)
    store = CheckpointStore(clients.dynamodb, names.checkpoints)
    lease = BackfillLease(store, local_holder(command), LOCAL_TTL)
    _take(lease, steal_lease, announce)
    lost = threading.Event()  # set by the heartbeat if another run took the lease: stop after the pages
    try:
        with heartbeat(lease, lost.set):  # renewed from the take on, planning included
            return _run(
                names, clients.dynamodb, store, lease, lost, sources, segments, workers, write_threads, rate,
                restart, progress, only_segment, page_size, announce,
            )  # fmt: skip
    finally:
        lease.release()


def _run(
    names: Tables,
    client: Any,
    store: CheckpointStore,
    lease: BackfillLease,
    lost: threading.Event,
    sources: tuple[str, ...],
    segments: int,
    workers: int,
    write_threads: int,
    rate: float | None,
    restart: bool,
    progress: ProgressSink | None,
    only_segment: int | None,
    page_size: int | None,
    announce: Callable[[str], None] | None,
) -> BackfillSummary:
    layouts = {s: SegmentCheckpoints(store, s, segments) for s in sources}
    chosen = [only_segment] if only_segment is not None else list(range(segments))
    if restart and only_segment is not None:
        for source in sources:
            layouts[source].reset(only_segment)
    plans = [plan_run(store, s, segments, restart=restart, whole=only_segment is None) for s in sources]
    for plan in plans:
        if announce is not None:
            announce(plan.describe())
    run_id = "+".join(dict.fromkeys(p.run_id for p in plans))
    lease.rename(run_id)
    started_at, t0 = utc_now(), time.monotonic()
    ended: dict[str, float] = {}
    scanned = [0]
    stop = threading.Event()
    limiter = TokenBucket(rate) if rate else None
    lock = threading.Lock()

    with progress or NullProgress() as bars:
        for source in sources:
            bars.add_table(source, item_count(client, names.source_table(source)))
            bars.advance(source, sum(layouts[source].load(s).counts["scanned"] for s in chosen))

        def on_page(source: str, counts: dict[str, int]) -> None:
            bars.advance(source, counts["scanned"])
            with lock:
                scanned[0] += counts["scanned"]

        def work(source: str, seg: int) -> SegmentResult:
            result = run_segment_on(
                names,
                client,
                table=source,
                segment=seg,
                segments=segments,
                run_id=run_id,
                deadline=lambda: 0.0 if stop.is_set() or lost.is_set() else math.inf,
                rate_limiter=limiter,
                page_size=page_size,
                executor=writes,
                on_page=on_page,
            )
            with lock:
                ended[source] = time.monotonic() - t0
            return result

        with (
            ThreadPoolExecutor(max(1, write_threads), thread_name_prefix="fill") as writes,
            ThreadPoolExecutor(max(1, workers), thread_name_prefix="segment") as segs,
        ):
            futures = [segs.submit(work, source, seg) for source in sources for seg in chosen]
            _wait_all(futures, stop)
    if lost.is_set():
        raise LeaseLostError(run_id)

    summary = BackfillSummary(
        run_id, started_at, utc_now(), segments, scanned_this_run=scanned[0], seconds=time.monotonic() - t0
    )
    summary.plans = {p.source: {"action": p.action, "run_id": p.run_id, "said": p.describe()} for p in plans}
    for source in sources:
        summary.tables[source] = _table_summary(layouts[source], segments, ended.get(source, 0.0))
    summary.complete = all(t.segments_done == segments for t in summary.tables.values())
    reports = ReportStore(client, names.reports)
    call_with_retry(lambda: reports.record(BACKFILL_RUN, summary.to_dict()))
    return summary


def _take(lease: BackfillLease, steal: bool, announce: Callable[[str], None] | None) -> None:
    """Take the lease; from a killed run on this host at once (resuming right after a kill -9)."""
    try:
        lease.acquire(steal=steal)
    except LeaseHeldError as refused:
        if not dead_here(refused.held) or not lease.take_over(refused.held):
            raise
        if announce is not None:
            announce(f"the backfill lease's holder ({refused.held.get('where')}) is no longer running: taken over")


def _wait_all(futures: list[Future[SegmentResult]], stop: threading.Event) -> None:
    """Wait for every segment; on Ctrl-C or a failed segment stop the rest after their page, then raise."""
    try:
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for f in done:
            f.result()
    except BaseException:
        stop.set()
        wait(futures)
        raise


def _table_summary(layout: SegmentCheckpoints, segments: int, seconds: float) -> TableSummary:
    out = TableSummary(seconds=seconds)
    for seg in range(segments):
        progress = layout.load(seg)
        for name in COUNT_NAMES:
            setattr(out, name, getattr(out, name) + progress.counts[name])
        out.segments_done += int(progress.done)
    return out


def _require_sync(client: Any, names: Tables, sources: tuple[str, ...]) -> None:
    from replicator.positions import PositionStore  # written by the sync unit; imported when needed

    tables = {source: names.source_table(source) for source in sources}
    positions = PositionStore(CheckpointStore(client, names.checkpoints), tables=tables)
    for source in sources:
        if not call_with_retry(partial(positions.has_run, source)):
            raise SyncNeverRanError(source, names.source_table(source))
