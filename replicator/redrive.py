"""Re-drive a quarantined item after its source was fixed: re-read it, then write, re-quarantine or resolve.

Like every non-stream write (DESIGN.md "Non-stream writes"): read v3 at the item's key first,
then the legacy item (consistent read) and write conditional on exactly that v3 state, with
`bump(its version)`: a change replication applies after the v3 read either makes the condition
fail (then re-check) or carries a later version that overwrites the re-drive. A legacy read after
the v3 read is what makes the written item current: the old order (legacy, then v3) could write a
deleted or moved item back above its tombstone. The quarantine entry is resolved (or replaced,
if still bad) only if it is still the version the re-drive started from.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from cutover.codec import from_ddb, to_ddb
from cutover.migration import Item
from cutover.names import Names
from cutover.transform_errors import TransformError
from replicator.contract.versioning import bump
from replicator.quarantine import QuarantineEntry, QuarantineStore, entry_for
from replicator.v3_writer import (
    Outcome,
    TargetKey,
    V3Writer,
    is_rejected,
    rejected_error,
    same_visible,
    version_of,
)

MAX_ATTEMPTS = 5  # re-checks when the item changes under the re-drive; then report it as changing


class Redriven(enum.Enum):
    WRITTEN = "written"  # good now; written to v3 and resolved
    NEWER_IN_V3 = "newer-in-v3"  # good now, but v3 already holds a newer version; resolved
    GONE = "gone"  # deleted at the source; resolved
    STILL_BAD = "still-bad"  # re-read and still fails the transform; entry updated
    CANNOT = "cannot-redrive"  # not a legacy item (unparseable stream record or no key)
    CHANGING = "changing"  # kept changing (or a newer entry appeared) while re-driving: run again

    @property
    def resolved(self) -> bool:
        return self in (Redriven.WRITTEN, Redriven.NEWER_IN_V3, Redriven.GONE)


@dataclass(frozen=True)
class RedriveResult:
    source: str
    key: str
    outcome: Redriven
    reason: str = ""
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "key": self.key,
            "outcome": self.outcome.value,
            "resolved": self.outcome.resolved,
            "reason": self.reason,
            "detail": self.detail,
        }


class Redriver:
    def __init__(self, dynamodb: Any, names: Names) -> None:
        self._dynamodb = dynamodb
        self._names = names
        self.quarantine = QuarantineStore(dynamodb, names.quarantine_table, names.migration)
        self._migration = names.migration
        self._writer = V3Writer(dynamodb, names.v3_table, names.migration)

    def redrive(self, entry: QuarantineEntry) -> RedriveResult:
        if entry.source not in self._names.roles or entry.key.startswith("<no key"):
            return RedriveResult(
                entry.source,
                entry.key,
                Redriven.CANNOT,
                entry.reason,
                "not a legacy item with a key: fix the source, then let the stream or backfill deliver it",
            )
        for _ in range(MAX_ATTEMPTS):
            result = self._attempt(entry)
            if result is not None:
                return result
        return RedriveResult(
            entry.source, entry.key, Redriven.CHANGING, entry.reason, "the item kept changing; re-drive it again"
        )

    def _legacy(self, entry: QuarantineEntry) -> Item | None:
        key = self._migration.parse_source_key(entry.source, entry.key)
        resp = self._dynamodb.get_item(
            TableName=self._names.source_table(entry.source), Key=to_ddb(key), ConsistentRead=True
        )
        return from_ddb(resp["Item"]) if "Item" in resp else None

    def _v3(self, key: TargetKey) -> Item | None:
        names = self._migration.target.key_names
        resp = self._dynamodb.get_item(
            TableName=self._names.v3_table, Key=to_ddb(dict(zip(names, key, strict=True))), ConsistentRead=True
        )
        return from_ddb(resp["Item"]) if "Item" in resp else None

    def _attempt(self, entry: QuarantineEntry) -> RedriveResult | None:
        """One read-v3, read-legacy, conditional write per target item; None means "changed meanwhile"."""
        table = self._names.source_table(entry.source)
        first = self._legacy(entry)  # only to learn the target keys (they may depend on any attribute)
        if first is None:
            return self._resolved(entry, Redriven.GONE, entry.version)
        try:
            items = self._migration.transform(entry.source, first)
        except TransformError as err:
            return self._still_bad(entry, err, table, first)
        seen = [self._v3(self._migration.target_key(item)) for item in items]
        if self._legacy(entry) != first:  # the legacy read that counts comes after the v3 reads
            return None
        versions, wrote = [version_of(s) or "" for s in seen], False
        for item, current in zip(items, seen, strict=True):
            if same_visible(item, current):
                continue
            try:
                outcome = self._writer.put_over(item, current, f"{entry.source}#{entry.key}")
            except ClientError as exc:
                if not is_rejected(exc):
                    raise
                rejected = rejected_error(entry.source, entry.key, exc, "nothing more was written")
                return self._still_bad(entry, rejected, table, first)
            if outcome is Outcome.SKIPPED:
                return None  # the target changed after we read it: re-check
            wrote = True
            versions.append(bump(version_of(current)))
        resolved_by = max(versions, default="") or entry.version
        return self._resolved(entry, Redriven.WRITTEN if wrote else Redriven.NEWER_IN_V3, resolved_by)

    def _resolved(self, entry: QuarantineEntry, outcome: Redriven, resolved_by: str) -> RedriveResult:
        if not self.quarantine.resolve(entry.source, entry.key, entry.version, resolved_by):
            return RedriveResult(
                entry.source, entry.key, Redriven.CHANGING, entry.reason, "a newer quarantine entry appeared meanwhile"
            )
        return RedriveResult(entry.source, entry.key, outcome)

    def _still_bad(self, entry: QuarantineEntry, err: TransformError, table: str, item: Item) -> RedriveResult:
        """Replace exactly the entry looked at, one step above its version (a newer stream record still wins)."""
        self.quarantine.replace(entry_for(err, table, item, bump(entry.version), "redrive"), entry.version)
        return RedriveResult(entry.source, entry.key, Redriven.STILL_BAD, err.reason, err.detail)
