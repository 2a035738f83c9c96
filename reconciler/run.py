"""`run_reconcile`: prove v3 == transform(legacy) (or quarantined), item for item, both directions.

A full run uses the merge reconcile (reconciler/merge_join.py): each table is scanned once, in parallel
segments, sorted by v3 key through a temp directory and merge-joined, so a clean table costs two
reads per item and memory stays flat in table size. A sampled run (`--sample`) uses the page-by-page
check the segment Lambda uses (reconciler/scan.py): it BatchGets only the sampled items' other side
and needs no disk. The quarantine sweep runs after either. Differences are confirmed
with consistent reads, streamed to the run's own report file and counted; the summary is stored
in the reports table (`RECONCILE`) for the flip interlock, ordered by when the run STARTED, with
what held at that moment (sync lag, gaps, the last backfill) so the gate can tell whether the run
could have seen the data it vouches for (DESIGN.md, "Evidence and the flip gate").
"""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cutover.clients import Clients
from cutover.clock import utc_now
from cutover.errors import ConfigError, InvalidSegmentError
from cutover.progress import NullProgress, ProgressSink, item_count
from cutover.retry import call_with_retry
from cutover.settings import Settings
from cutover.state import BACKFILL_RUN, RECONCILE, RECONCILE_REPAIR, CheckpointStore, ReportStore
from cutover.tables import Tables
from reconciler.checker import Checker
from reconciler.merge_join import reconcile_by_merge
from reconciler.report import DifferenceSink, ReconcileReport
from reconciler.scan import check_legacy_segment, check_v3_segment
from reconciler.sweep import sweep_quarantine
from replicator.positions import PositionStore

DEFAULT_REPORT = "reconcile-report.json"
METHODS = ("auto", "merge", "pages")


def run_reconcile(
    settings: Settings,
    clients: Clients,
    *,
    segments: int = 8,
    workers: int = 4,
    sample: float | None = None,
    repair: bool = False,
    report_path: str | None = None,
    progress: ProgressSink | None = None,
    page_size: int | None = None,
    record: bool = True,
    method: str = "auto",
    spill_dir: str | None = None,
) -> ReconcileReport:
    """Compare legacy and v3 in both directions; with `repair`, fix and re-check each difference.

    `method`: "merge" (scan each side once, sort-merge on local disk under `spill_dir`), "pages"
    (scan and BatchGet page by page), or "auto": merge for a full run, pages for a sampled one.

    Raises:
        ConfigError: `sample` is not in (0, 1].
        InvalidSegmentError: `segments` < 1.
    """
    if sample is not None and not 0 < sample <= 1:
        raise ConfigError(f"--sample {sample} must be a fraction in (0, 1], e.g. 0.05 for 5%")
    if segments < 1:
        raise InvalidSegmentError(None, segments)
    if method not in METHODS:
        raise ConfigError(f"reconcile method {method!r} is not one of {', '.join(METHODS)}")
    merge = method == "merge" or (method == "auto" and sample is None)
    tables = Tables.from_names(settings.names)
    client = clients.dynamodb
    started_at, t0 = utc_now(), time.monotonic()
    run_id = f"{re.sub(r'[^0-9T]', '', started_at)}-{uuid.uuid4().hex[:6]}"
    at_start = evidence_at_start(settings, clients)
    sink = DifferenceSink(report_path, run_id)
    checker = Checker(client, tables, sink, repair)
    try:
        with progress or NullProgress() as bars:
            for source in tables.roles:
                bars.add_table(f"legacy {source}", item_count(client, tables.source_table(source)))
            bars.add_table("v3", item_count(client, tables.v3))
            if merge:
                reconcile_by_merge(
                    checker,
                    segments=segments,
                    workers=workers,
                    sample=sample,
                    advance=bars.advance,
                    page_size=page_size,
                    spill_dir=spill_dir,
                )
            else:
                _reconcile_by_pages(checker, segments, workers, sample, bars.advance, page_size)
        sweep_quarantine(checker, sample)
    except BaseException:
        sink.abort()
        raise
    report = ReconcileReport(
        started_at, utc_now(), dict(sink.counts), sample, sink.path, repair, time.monotonic() - t0, list(sink.shown)
    )
    report.run_id, report.evidence = run_id, at_start
    sink.finish(report.record())
    if record:
        record_report(ReportStore(client, tables.reports), report)
    return report


def _reconcile_by_pages(
    checker: Checker, segments: int, workers: int, sample: float | None, advance: Any, page_size: int | None
) -> None:
    """Every legacy and v3 segment on one pool, each task holding one page (the segment Lambda's check)."""
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="reconcile") as pool:
        futures = [
            pool.submit(check_legacy_segment, checker, source, seg, segments, sample, advance, page_size)
            for source in checker.tables.roles
            for seg in range(segments)
        ]
        futures += [
            pool.submit(check_v3_segment, checker, seg, segments, sample, advance, page_size) for seg in range(segments)
        ]
        for future in futures:
            future.result()


def record_report(reports: ReportStore, report: ReconcileReport) -> None:
    """Store the summary ordered by START time: a run that started earlier never hides a later one.

    A full (unsampled) --repair run is also recorded as `RECONCILE_REPAIR`: it is what clears a
    sync gap for the flip gate.
    """
    call_with_retry(lambda: reports.record(RECONCILE, report.record(), at=report.started_at, run_id=report.run_id))
    if report.repair and report.sample is None:
        call_with_retry(
            lambda: reports.record(RECONCILE_REPAIR, report.record(), at=report.started_at, run_id=report.run_id)
        )


def evidence_at_start(settings: Settings, clients: Clients) -> dict[str, Any]:
    """What held when the run started: sync lag per source, gaps so far, the last backfill."""
    names = settings.names
    positions = PositionStore(
        CheckpointStore(clients.dynamodb, names.checkpoints_table),
        tables=names.source_tables(),
    )
    try:
        lags = positions.source_lags()
        reports = ReportStore(clients.dynamodb, names.reports_table)
        backfill = reports.latest(BACKFILL_RUN) or {}
        gaps = len(positions.gaps())
        backend = reports.server_time()  # read before the scan: no item is read earlier than this
    except (ClientError, BotoCoreError) as exc:  # evidence only: the comparison itself still runs
        return {"error": f"{type(exc).__name__}: {exc}"}
    worst = None if None in lags.values() else max(lags.values(), default=None)  # type: ignore[type-var]
    return {
        "sync_lag_seconds": worst,
        "sync_lag_by_source": lags,
        "gaps": gaps,
        "backfill_finished_at": backfill.get("finished_at"),
        "backfill_complete": backfill.get("complete"),
        "backend_at": None if backend is None else backend.isoformat(),  # the start on the backend's clock
    }
