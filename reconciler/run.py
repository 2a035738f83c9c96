"""`run_reconcile`: prove v3 == transform(legacy) (or quarantined), item for item, both directions.

Every legacy segment, every v3 segment and then the quarantine sweep run on one worker pool;
each task holds one page at a time, so memory is flat in table size. Differences are confirmed
with consistent reads, streamed to the report file and counted; the summary is stored in the
reports table (`RECONCILE`) for the flip interlock.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from cutover.clients import Clients
from cutover.clock import utc_now
from cutover.errors import ConfigError, InvalidSegmentError
from cutover.names import SOURCES
from cutover.progress import NullProgress, ProgressSink, item_count
from cutover.retry import call_with_retry
from cutover.settings import Settings
from cutover.state import RECONCILE, ReportStore
from cutover.tables import Tables
from reconciler.checker import Checker
from reconciler.report import DifferenceSink, ReconcileReport
from reconciler.scan import check_legacy_segment, check_v3_segment
from reconciler.sweep import sweep_quarantine

DEFAULT_REPORT = "reconcile-report.json"


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
) -> ReconcileReport:
    """Compare legacy and v3 in both directions; with `repair`, fix and re-check each difference.

    Raises:
        ConfigError: `sample` is not in (0, 1].
        InvalidSegmentError: `segments` < 1.
    """
    if sample is not None and not 0 < sample <= 1:
        raise ConfigError(f"--sample {sample} must be a fraction in (0, 1], e.g. 0.05 for 5%")
    if segments < 1:
        raise InvalidSegmentError(None, segments)
    tables = Tables.from_names(settings.names)
    client = clients.dynamodb
    sink = DifferenceSink(report_path)
    checker = Checker(client, tables, sink, repair)
    started_at, t0 = utc_now(), time.monotonic()
    try:
        with progress or NullProgress() as bars:
            for source in SOURCES:
                bars.add_table(f"legacy {source}", item_count(client, tables.source_table(source)))
            bars.add_table("v3", item_count(client, tables.v3))
            with ThreadPoolExecutor(max(1, workers), thread_name_prefix="reconcile") as pool:
                futures = [
                    pool.submit(check_legacy_segment, checker, source, seg, segments, sample, bars.advance, page_size)
                    for source in SOURCES
                    for seg in range(segments)
                ]
                futures += [
                    pool.submit(check_v3_segment, checker, seg, segments, sample, bars.advance, page_size)
                    for seg in range(segments)
                ]
                for future in futures:
                    future.result()
        sweep_quarantine(checker, sample)
    except BaseException:
        sink.abort()
        raise
    report = ReconcileReport(
        started_at, utc_now(), dict(sink.counts), sample, report_path, repair, time.monotonic() - t0, list(sink.shown)
    )
    sink.finish(report.record())
    if record:
        reports = ReportStore(client, tables.reports)
        call_with_retry(lambda: reports.record(RECONCILE, report.record()))
    return report
