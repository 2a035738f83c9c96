"""Resolve stale quarantine entries: the source item was fixed (and v3 matches) or deleted.

Reconcile is where quarantine is cleaned up, so an operator's list shows only items that still
need a fix. An entry stays open while its source item is still bad, or v3 does not match yet.
The judgement uses the checker's snapshot (v3 read, then legacy), and the resolve is conditional
on the entry version listed: if replication re-quarantined the item meanwhile (a newer version),
the newer entry stays open. `resolvedBy` records the v3 version that was seen matching, so a
replay of an older bad record cannot re-open the entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from cutover.codec import from_ddb
from cutover.retry import call_with_retry
from cutover.scan import scan_pages
from reconciler.checker import Checker
from reconciler.compare import legacy_finding, sampled
from replicator.quarantine import OPEN, QuarantineEntry
from replicator.v3_writer import version_of


def sweep_quarantine(checker: Checker, sample: float | None) -> None:
    for entry in _open_entries(checker):
        if (
            entry.source not in checker.tables.roles
            or entry.key.startswith("<no key")
            or not sampled(entry.source, entry.key, sample)
        ):
            continue
        snap = checker.snapshot(entry.source, entry.key)
        resolved_by = entry.version
        if snap.legacy is not None:
            if snap.error is not None or not snap.stable:
                continue  # still bad (or changing): stays open
            if any(legacy_finding(expected, actual) is not None for expected, actual in snap.pairs()):
                continue  # good now, but v3 does not show it yet (direction 1 reports/repairs that)
            # every target item matches (none, if the definition no longer migrates it): the highest version seen
            resolved_by = max((v for a in snap.actual if (v := version_of(a))), default="") or entry.version
        if call_with_retry(partial(checker.quarantine.resolve, entry.source, entry.key, entry.version, resolved_by)):
            checker.sink.count("quarantine_resolved")


def _open_entries(checker: Checker) -> Iterator[QuarantineEntry]:
    """Open entries, a page at a time, with the same throttling retry as every other read."""
    for page in scan_pages(checker.client, checker.tables.quarantine, segment=0, segments=1, consistent=True):
        for raw in page.items:
            entry = QuarantineEntry.from_item(from_ddb(raw))
            if entry.status == OPEN:
                yield entry
