"""Repairs: non-stream v3 writes, each conditional on the exact v3 state the checker read.

The checker reads v3 first and the legacy item after it; a repair then writes transform(L) (or a
tombstone) with `bump(v)` where v is the `_version` it read, and only if v3 still holds exactly
that version (or the key is still absent). If replication changed the key in between, the write is
SKIPPED and the checker re-checks: a repair can neither overwrite newer data nor resurrect a
delete or a moved item above its tombstone. A write DynamoDB refuses for good becomes a
`write_rejected` quarantine entry instead of an error that would stop the run.

A fan-out is repaired item by item (each target item of the source, each over its own observed
state); a target item the source no longer produces (a moved key, a fan-out that shrank) is an
`extra` of the other direction and tombstoned by `repair_extra`.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from cutover.migration import Item
from cutover.retry import call_with_retry
from cutover.transform_errors import ItemKey, TransformError
from replicator.contract.versioning import bump
from replicator.quarantine import QuarantineEntry, QuarantineStore, entry_for
from replicator.v3_writer import Outcome, TargetKey, V3Writer, is_rejected, is_tombstone, rejected_error


class Rejected(Exception):
    """DynamoDB refused the repair write; carries the quarantine-ready error and the refused item."""

    def __init__(self, error: TransformError, item: Item | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.item = item


def repair_put(writer: V3Writer, expected: Item, source_ref: str, observed: Item | None) -> Outcome:
    """missing/different: write transform(L) over exactly `observed` (None: the key must still be absent).

    Raises:
        Rejected: DynamoDB refuses the item (too large, bad index key): quarantine it.
    """
    try:
        return call_with_retry(lambda: writer.put_over(expected, observed, source_ref))
    except ClientError as exc:
        if not is_rejected(exc):
            raise
        source, _, key = source_ref.partition("#")
        raise Rejected(rejected_error(source, key, exc, "v3 was not changed"), expected) from exc


def repair_extra(writer: V3Writer, key: TargetKey, observed: Item) -> Outcome:
    """extra (zombie, stale location, bad source): tombstone exactly `observed`, never anything newer."""
    ref = str(observed.get("_source") or f"v3#{_key_text(writer, key)}")
    return call_with_retry(lambda: writer.tombstone_over(key, observed, ref))


def _key_text(writer: V3Writer, key: TargetKey) -> str:
    """A target key in a tombstone's `_source` when the live item named none: its string values joined by
    `#` (as ever for string keys), else canonical JSON of the key."""
    if all(isinstance(v, str) for v in key):
        return "#".join(key)
    return ItemKey(writer.key_names, tuple(key)).text


def quarantine_rejected(
    writer: V3Writer, store: QuarantineStore, error: TransformError, table: str, legacy: Item, actual: Item | None
) -> None:
    """DynamoDB refuses a target item of transform(L): tombstone the stale live v3 item it would have
    replaced (exactly that version), and open a `write_rejected` entry above any earlier one."""
    if actual is not None and not is_tombstone(actual):
        repair_extra(writer, tuple(actual[n] for n in writer.key_names), actual)
    key = error.key_text or str(error.key)
    existing = call_with_retry(lambda: store.get(error.source, key))
    entry = entry_for(error, table, legacy, bump(existing.floor if existing else None), "reconcile")
    call_with_retry(lambda: store.put(entry))


def repair_quarantine(
    store: QuarantineStore, error: TransformError, table: str, legacy: Item, seen: QuarantineEntry | None
) -> QuarantineEntry | None:
    """An unquarantined bad item: (re)open its entry above the version and `resolvedBy` of `seen` (the entry
    read before `legacy`), and only if the entry is still exactly `seen`; None (re-check) if it changed."""
    entry = entry_for(error, table, legacy, bump(seen.floor if seen else None), "reconcile")
    return entry if call_with_retry(lambda: store.put_over(entry, seen)) else None
