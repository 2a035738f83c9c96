"""Repairs: non-stream v3 writes, each conditional on the exact v3 state the checker read.

The checker reads v3 first and the legacy item after it; a repair then writes transform(L) (or a
tombstone) with `bump(v)` where v is the `_version` it read, and only if v3 still holds exactly
that version (or the key is still absent). If replication changed the key in between, the write is
SKIPPED and the checker re-checks: a repair can neither overwrite newer data nor resurrect a
delete or a moved order above its tombstone. A write DynamoDB refuses for good becomes a
`write_rejected` quarantine entry instead of an error that would stop the run.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from cutover.retry import call_with_retry
from replicator.contract.errors import TransformError
from replicator.contract.transform import Item, V3Key
from replicator.contract.versioning import bump
from replicator.quarantine import QuarantineEntry, QuarantineStore, entry_for
from replicator.v3_writer import Outcome, V3Writer, is_rejected, is_tombstone, rejected_error


class Rejected(Exception):
    """DynamoDB refused the repair write; carries the quarantine-ready error."""

    def __init__(self, error: TransformError) -> None:
        super().__init__(str(error))
        self.error = error


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
        raise Rejected(rejected_error(source, key, exc, "v3 was not changed")) from exc


def repair_extra(writer: V3Writer, key: V3Key, observed: Item) -> Outcome:
    """extra (zombie, stale location, bad source): tombstone exactly `observed`, never anything newer."""
    user_id, record_type = key
    ref = str(observed.get("_source") or f"v3#{user_id}#{record_type}")
    return call_with_retry(lambda: writer.tombstone_over(key, observed, ref))


def quarantine_rejected(
    writer: V3Writer, store: QuarantineStore, error: TransformError, table: str, legacy: Item, actual: Item | None
) -> None:
    """DynamoDB refuses transform(L): tombstone the stale live v3 item it would have replaced (exactly
    that version), and open a `write_rejected` entry above any earlier one."""
    if actual is not None and not is_tombstone(actual):
        repair_extra(writer, (actual["userId"], actual["recordType"]), actual)
    existing = call_with_retry(lambda: store.get(error.source, str(error.key)))
    entry = entry_for(error, table, legacy, bump(existing.floor if existing else None), "reconcile")
    call_with_retry(lambda: store.put(entry))


def repair_quarantine(
    store: QuarantineStore, error: TransformError, table: str, legacy: Item, seen: QuarantineEntry | None
) -> QuarantineEntry | None:
    """An unquarantined bad item: (re)open its entry above the version and `resolvedBy` of `seen` (the entry
    read before `legacy`), and only if the entry is still exactly `seen`; None (re-check) if it changed."""
    entry = entry_for(error, table, legacy, bump(seen.floor if seen else None), "reconcile")
    return entry if call_with_retry(lambda: store.put_over(entry, seen)) else None
