"""The merge reconcile: each table scanned once, sorted by v3 key on local disk, then joined.

The page-by-page algorithm (reconciler/scan.py, which the segment Lambda uses) reads every item
four times: it scans legacy and BatchGets the v3 items of each, then scans v3 and BatchGets the
source of each. Here each side is read ONCE (eventually consistent parallel Scans) and reduced to
a small record per target item, spilled in sorted runs to a temp directory (reconciler/spill.py):

- legacy: (sort key, LEGACY, digest of the expected item, source role, source key text, target key),
  one per target item the legacy item becomes (a fan-out gives several; "not migrated" none);
- v3: (sort key, V3, digest of the live item, target key, source role, source key text), the
  source as the item's `_source` names it.

The sort key is `reconciler.compare.sort_key` of the target key: total and stable whatever the key
types (S, N, B), and equal exactly when DynamoDB's keys are. A merge of all runs then meets both
sides of each target key in one place:

- legacy record and live v3 record with equal digests: equal, both directions hold;
- legacy record, v3 absent/tombstoned, with another digest or naming another source:
  `Checker.confirm_legacy` of that target item;
- live v3 record and no legacy record of the source its `_source` names maps to its key, or one
  that maps there with another digest: `Checker.confirm_v3` (the page check reads that source, so
  both methods judge alike; in the second case the source may be deleted before its re-check, and
  `confirm_legacy` then leaves the live item to this direction, as the page check's v3 pass does).

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
from typing import Any

from cutover.codec import from_ddb
from cutover.scan import scan_pages
from cutover.transform_errors import TransformError
from reconciler.checker import Checker
from reconciler.compare import sampled, sort_key
from reconciler.fingerprint import digest
from reconciler.scan import Advance, live_v3_pages
from reconciler.spill import Record, RunWriter, merged
from replicator.v3_writer import TargetKey

LEGACY, V3 = 0, 1  # sorts a key's legacy record before its v3 record
# Items per Scan page. A 1 MB page of these items (2,000-4,000 of them) is 30-60 MB once botocore has
# parsed it into Python objects, per worker; 1,000 bounds that to ~15 MB. Read units do not change
# (a Scan is charged by the size it reads), only the number of requests.
PAGE_ITEMS = 1_000


def legacy_record(
    key: TargetKey, want: bytes, source: str, source_key: str, order: tuple[Any, ...] | None = None
) -> Record:
    """What direction 1 spills for one expected target item (`order`: its `sort_key`, if known).
    Records of one key sort by side, digest, role and key text before the key values themselves
    (which need not order: binaries)."""
    return (sort_key(key) if order is None else order, LEGACY, want, source, source_key, key)


def v3_record(
    key: TargetKey, have: bytes, source: str, source_key: str, order: tuple[Any, ...] | None = None
) -> Record:
    """What direction 2 spills for one live target item (its source as `_source` names it)."""
    return (sort_key(key) if order is None else order, V3, have, key, source, source_key)


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
                for source in checker.tables.roles
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
    """Direction 1's read: each target item of each sampled legacy item -> a `legacy_record`."""
    runs = RunWriter(directory, f"legacy-{source}-{segment}")
    table = checker.tables.source_table(source)
    migration, keys = checker.migration, checker.keys
    target_of, order = keys.target_of, keys.order
    for page in scan_pages(checker.client, table, segment=segment, segments=segments, limit=page_size):
        compared = not_migrated = 0
        for raw in page.items:
            item = from_ddb(raw)
            key = keys.source_text(source, item)
            if not sampled(source, key, sample):
                continue
            compared += 1
            try:
                expected = migration.transform(source, item)
            except TransformError as err:
                checker.bad_item(source, key, err, item)
                continue
            if not expected:
                not_migrated += 1
            for out in expected:
                target = target_of(out)
                runs.add(legacy_record(target, digest(out), source, key, order(target)))
        checker.sink.count("compared", compared)
        checker.sink.count("not_migrated", not_migrated)
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
    """Direction 2's read: each sampled live v3 item -> a `v3_record`."""
    runs = RunWriter(directory, f"v3-{segment}")
    for size, live in live_v3_pages(checker, segment, segments, page_size):
        checked = 0
        for item, key, origin in live:
            if sampled(origin[0], origin[1], sample):
                checked += 1
                runs.add(v3_record(key, digest(item), origin[0], origin[1], checker.keys.order(key)))
        checker.sink.count("v3_checked", checked)
        advance("v3", size)
    runs.flush()
    return runs.paths


def suspects(records: Iterable[Record]) -> Iterable[Callable[[Checker], None]]:
    """Join the sorted records by target key; yield a confirmation for each key whose sides differ."""
    for _, group in groupby(records, key=lambda r: r[0]):
        legacy: list[Record] = []
        live: Record | None = None
        for record in group:
            if record[1] == LEGACY:
                legacy.append(record)
            else:
                live = record
        own_suspect = False  # the live item's own source differs: it may vanish before its re-check
        for _, _, want, source, source_key, key in legacy:
            if live is None or live[2] != want or live[4] != source or live[5] != source_key:
                yield partial(_confirm_legacy, source=source, key=source_key, target=key)
                own_suspect = own_suspect or (live is not None and (live[4], live[5]) == (source, source_key))
        if live is not None and (own_suspect or not any(r[3] == live[4] and r[4] == live[5] for r in legacy)):
            yield partial(_confirm_v3, key=live[3])


def _confirm_legacy(checker: Checker, *, source: str, key: str, target: TargetKey) -> None:
    checker.confirm_legacy(source, key, target)


def _confirm_v3(checker: Checker, *, key: TargetKey) -> None:
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
