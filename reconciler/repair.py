"""Repairs go through the replicator's version-guarded writer, exactly like a stream record.

Each repair carries `bump(v)` where v is the `_version` the reconciler just read: above what it
saw, below any later stream record. If replication wrote something newer in between, the
condition fails (SKIPPED) and the newer item stays: a repair can never overwrite newer data.
"""

from __future__ import annotations

from cutover.retry import call_with_retry
from replicator.contract.errors import TransformError
from replicator.contract.transform import Item, V3Key
from replicator.contract.versioning import bump
from replicator.quarantine import QuarantineStore, entry_for
from replicator.v3_writer import Outcome, V3Writer


def repair_put(writer: V3Writer, expected: Item, source_ref: str, observed: Item | None) -> Outcome:
    """missing/different: write transform(L) just above the version v3 held when we looked."""
    return call_with_retry(lambda: writer.put(expected, bump(_version(observed)), source_ref))


def repair_extra(writer: V3Writer, key: V3Key, observed: Item) -> Outcome:
    """extra (zombie, stale location, bad source): tombstone it just above its own version."""
    user_id, record_type = key
    ref = str(observed.get("_source") or f"v3#{user_id}#{record_type}")
    return call_with_retry(lambda: writer.tombstone(key, bump(_version(observed)), ref))


def repair_quarantine(store: QuarantineStore, error: TransformError, table: str, legacy: Item) -> bool:
    """An unquarantined bad item: (re)open its quarantine entry, above any earlier entry's version."""
    existing = call_with_retry(lambda: store.get(error.source, str(error.key)))
    entry = entry_for(error, table, legacy, bump(existing.version if existing else None), "reconcile")
    return call_with_retry(lambda: store.put(entry))


def _version(item: Item | None) -> str | None:
    return None if item is None else (str(item["_version"]) if item.get("_version") is not None else None)
