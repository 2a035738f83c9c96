"""Resolve stale quarantine entries: the source item was fixed (and v3 matches) or deleted.

Reconcile is where quarantine is cleaned up, so an operator's list shows only items that still
need a fix. An entry stays open while its source item is still bad, or v3 does not match yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from cutover.codec import from_ddb
from cutover.names import SOURCES
from cutover.retry import call_with_retry
from cutover.scan import scan_pages
from reconciler.checker import Checker
from reconciler.compare import legacy_finding, sampled, v3_key
from replicator.contract.errors import TransformError
from replicator.contract.transform import transform
from replicator.quarantine import OPEN, QuarantineEntry


def sweep_quarantine(checker: Checker, sample: float | None) -> None:
    for entry in _open_entries(checker):
        if (
            entry.source not in SOURCES
            or entry.key.startswith("<no key")
            or not sampled(entry.source, entry.key, sample)
        ):
            continue
        legacy = checker.legacy(entry.source, entry.key)
        if legacy is not None:
            try:
                expected = transform(entry.source, legacy)[0]
            except TransformError:
                continue  # still bad: stays open
            if legacy_finding(expected, checker.v3(v3_key(expected))) is not None:
                continue  # good now, but v3 does not show it yet (direction 1 reports/repairs that)
        call_with_retry(partial(checker.quarantine.resolve, entry.source, entry.key))
        checker.sink.count("quarantine_resolved")


def _open_entries(checker: Checker) -> Iterator[QuarantineEntry]:
    """Open entries, a page at a time, with the same throttling retry as every other read."""
    for page in scan_pages(checker.client, checker.tables.quarantine, segment=0, segments=1, consistent=True):
        for raw in page.items:
            entry = QuarantineEntry.from_item(from_ddb(raw))
            if entry.status == OPEN:
                yield entry
