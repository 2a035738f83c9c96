"""The merge reconcile: each table scanned once, sorted by v3 key on local disk, then joined.

The page-by-page algorithm (reconciler/scan.py, which the segment Lambda uses) reads every item
four times: it scans legacy and BatchGets the v3 item of each, then scans v3 and BatchGets the
source of each. Here each side is read ONCE (eventually consistent parallel Scans) and reduced to
a small record per item, (userId, recordType, side, digest[, source, source key]), spilled in sorted
runs to a temp directory (reconciler/spill.py). A merge of all runs then meets both sides of each
v3 key in one place:

- legacy record and live v3 record with equal digests: equal, both directions hold;
- legacy record, v3 absent/tombstoned or with another digest: `Checker.confirm_legacy`;
- live v3 record and no legacy record maps to its key: `Checker.confirm_v3`.

Only those suspects are read again, with consistent reads, by the same checker (and repaired by
the same conditional repairs) as before, so counts, report and evidence are the same; a clean
table costs two reads per item. Memory is one run buffer per scan task plus one chunk per run.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from itertools import groupby
from pathlib import Path

from cutover.codec import from_ddb
from cutover.names import SOURCES
from cutover.scan import scan_pages
from reconciler.checker import Checker
from reconciler.compare import sampled, v3_key
from reconciler.fingerprint import digest
from reconciler.scan import Advance, live_v3_pages
from reconciler.spill import Record, RunWriter, merged
from replicator.contract.errors import TransformError
from replicator.contract.transform import SOURCE_KEY, transform

LEGACY, V3 = 0, 1  # sorts a key's legacy record before its v3 record
# Items per Scan page. A 1 MB page of these items (2,000-4,000 of them) is 30-60 MB once botocore has
# parsed it into Python objects, per worker; 1,000 bounds that to ~15 MB. Read units do not change
# (a Scan is charged by the size it reads), only the number of requests.
PAGE_ITEMS = 1_000


def reconcile_by_merge(
    checker: Checker,
    *,
    segments: int,
    workers: int,
    sample: float | None,
    advance: Advance,
    page_size: int | None = None,
    spill_dir: str | None = None,
) -> None:
    """Scan both sides in parallel segments into sorted runs, merge-join them, confirm the suspects."""
    page_size = page_size or PAGE_ITEMS
    with tempfile.TemporaryDirectory(prefix="cutover-reconcile-", dir=spill_dir) as tmp:
        directory = Path(tmp)
        with ThreadPoolExecutor(max(1, workers), thread_name_prefix="reconcile-scan") as pool:
            futures = [
                pool.submit(spill_legacy_segment, checker, source, seg, segments, sample, advance, page_size, directory)
                for source in SOURCES
                for seg in range(segments)
            ]
            futures += [
                pool.submit(spill_v3_segment, checker, seg, segments, sample, advance, page_size, directory)
                for seg in range(segments)
            ]
            paths = [path for future in futures for path in future.result()]
        confirm_all(checker, suspects(merged(paths, directory)), workers)


def spill_legacy_segment(
    checker: Checker,
    source: str,
    segment: int,
    segments: int,
    sample: float | None,
    advance: Advance,
    page_size: int | None,
    directory: Path,
) -> list[Path]:
    """Direction 1's read: each sampled legacy item -> (its v3 key, LEGACY, digest of transform(L), source, key)."""
    runs = RunWriter(directory, f"legacy-{source}-{segment}")
    table = checker.tables.source_table(source)
    for page in scan_pages(checker.client, table, segment=segment, segments=segments, limit=page_size):
        compared = 0
        for raw in page.items:
            item = from_ddb(raw)
            key = str(item[SOURCE_KEY[source]])
            if not sampled(source, key, sample):
                continue
            compared += 1
            try:
                expected = transform(source, item)[0]
            except TransformError as err:
                checker.bad_item(source, key, err, item)
                continue
            user_id, record_type = v3_key(expected)
            if not (isinstance(user_id, str) and isinstance(record_type, str)):
                checker.confirm_legacy(source, key)  # cannot be a v3 key (S, S): let the checker judge it
                continue
            runs.add((user_id, record_type, LEGACY, digest(expected), source, key))
        checker.sink.count("compared", compared)
        advance(f"legacy {source}", len(page.items))
    runs.flush()
    return runs.paths


def spill_v3_segment(
    checker: Checker,
    segment: int,
    segments: int,
    sample: float | None,
    advance: Advance,
    page_size: int | None,
    directory: Path,
) -> list[Path]:
    """Direction 2's read: each sampled live v3 item -> (userId, recordType, V3, digest)."""
    runs = RunWriter(directory, f"v3-{segment}")
    for size, live in live_v3_pages(checker, segment, segments, page_size):
        checked = 0
        for item, key, origin in live:
            if sampled(origin[0], origin[1], sample):
                checked += 1
                runs.add((key[0], key[1], V3, digest(item)))
        checker.sink.count("v3_checked", checked)
        advance("v3", size)
    runs.flush()
    return runs.paths


def suspects(records: Iterable[Record]) -> Iterable[Callable[[Checker], None]]:
    """Join the sorted records by v3 key; yield a confirmation for each key whose sides differ."""
    for (user_id, record_type), group in groupby(records, key=lambda r: (r[0], r[1])):
        legacy: list[Record] = []
        live: Record | None = None
        for record in group:
            if record[2] == LEGACY:
                legacy.append(record)
            else:
                live = record
        for _, _, _, want, source, key in legacy:
            if live is None or live[3] != want:
                yield partial(_confirm_legacy, source=source, key=key)
        if live is not None and not legacy:
            yield partial(_confirm_v3, key=(user_id, record_type))


def _confirm_legacy(checker: Checker, *, source: str, key: str) -> None:
    checker.confirm_legacy(source, key)


def _confirm_v3(checker: Checker, *, key: tuple[str, str]) -> None:
    checker.confirm_v3(key)


def confirm_all(checker: Checker, confirmations: Iterable[Callable[[Checker], None]], workers: int) -> None:
    """Run the confirmations on `workers` threads, at most 8 per worker queued; the first error is raised."""
    slots = threading.BoundedSemaphore(max(1, workers) * 8)
    errors: list[BaseException] = []

    def done(future: Future[None]) -> None:
        slots.release()
        if future.exception() is not None:
            errors.append(future.exception())  # type: ignore[arg-type]

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="reconcile-confirm") as pool:
        for confirm in confirmations:
            if errors:
                break
            slots.acquire()
            pool.submit(confirm, checker).add_done_callback(done)
    if errors:
        raise errors[0]
