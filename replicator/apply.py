"""Execute a Plan against v3 and quarantine. Tombstones first, so a key move never shows two live copies.

A good change whose OLD image was bad means the item was quarantined and is fixed now: its open,
older entry is resolved (conditionally, so a newer entry stays open). Only such records pay the
extra write; the test is a pure transform of the old image, so the hot path costs no extra I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from cutover.migration import Migration
from cutover.migration_loader import load_migration
from cutover.transform_errors import TransformError
from replicator.changes import Change, Plan
from replicator.quarantine import QuarantineStore, entry_for
from replicator.v3_writer import Outcome, V3Writer


@dataclass
class ApplyResult:
    written: int = 0
    skipped: int = 0
    tombstoned: int = 0
    tombstoned_live: int = 0  # of `tombstoned`: those that replaced a live item (v3 stopped serving it)
    quarantined: int = 0
    resolved: int = 0

    def add(self, other: ApplyResult) -> None:
        self.written += other.written
        self.skipped += other.skipped
        self.tombstoned += other.tombstoned
        self.tombstoned_live += other.tombstoned_live
        self.quarantined += other.quarantined
        self.resolved += other.resolved


def apply_plan(
    plan: Plan,
    writer: V3Writer,
    quarantine: QuarantineStore,
    table: str,
    origin: str = "replication",
    migration: Migration | None = None,
) -> ApplyResult:
    result = ApplyResult()
    change = plan.change
    for tomb in plan.tombstones:
        outcome = writer.tombstone(tomb.key, change.version, change.source_ref)
        if outcome is Outcome.SKIPPED:
            result.skipped += 1
        else:
            result.tombstoned += 1
            result.tombstoned_live += outcome is Outcome.REPLACED_LIVE
    for put in plan.puts:
        if writer.put(put.item, change.version, change.source_ref) is Outcome.WRITTEN:
            result.written += 1
        else:
            result.skipped += 1
    if plan.quarantine is not None:
        quarantine.put(entry_for(plan.quarantine.error, table, plan.quarantine.raw, change.version, origin))
        result.quarantined += 1
    elif _was_bad(change, migration) and quarantine.resolve_older(change.source, change.source_key, change.version):
        result.resolved += 1
    return result


def _was_bad(change: Change, migration: Migration | None) -> bool:
    """The previous image failed the transform, so the item may have an open entry to resolve."""
    if change.old is None or not change.source_key:
        return False
    try:
        (migration or load_migration()).transform(change.source, change.old)
    except TransformError:
        return True
    return False
