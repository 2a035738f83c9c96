"""Confirm a suspected difference with strongly consistent reads, then report (and maybe repair) it.

The first pass reads cheaply (eventually consistent Scan/BatchGetItem). Anything that looks
wrong is read again here with ConsistentRead on both sides, so an item replication is about to
write is not reported as loss. With `repair`, the fix is applied and the key read once more.

Read order matters (DESIGN.md "Non-stream writes"): a snapshot reads v3 first and the legacy
item after it (a first legacy read only finds the v3 keys), and a repair is conditional on exactly
the v3 state of that snapshot. A snapshot whose legacy item changed across the v3 reads, or a
repair whose condition failed, is taken again: replication moved on, so judge the new state.

Everything is the migration definition's (`tables.migration`): a legacy item is read by its
source key (of any type, composite included: `Migration.parse_source_key` of its key text), a
target item by its target key; a legacy item becomes every target item its transform returns
(a fan-out is judged and repaired item by item; none at all is "not migrated").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cutover.batch_get import get_item
from cutover.migration import Item, Migration, MigrationError, canonical
from cutover.retry import call_with_retry
from cutover.tables import Tables
from cutover.transform_errors import TransformError
from reconciler.compare import (
    EXTRA,
    UNKNOWN_RECORD,
    UNQUARANTINED,
    Keys,
    SourceRef,
    legacy_finding,
    source_of_v3,
    v3_finding,
)
from reconciler.repair import Rejected, quarantine_rejected, repair_extra, repair_put, repair_quarantine
from reconciler.report import Difference, DifferenceSink
from replicator.quarantine import OPEN, QuarantineStore
from replicator.v3_writer import Outcome, TargetKey, V3Writer, WriteRejectedError, is_tombstone

MAX_ATTEMPTS = 5  # snapshots / conditional writes per key before it is reported as still changing
Remaining = Callable[[TargetKey], bool]  # after a repair: does this target key still differ?


def _never(_key: TargetKey) -> bool:
    return False


def _always(_key: TargetKey) -> bool:
    return True


@dataclass(frozen=True)
class Snapshot:
    """Legacy read after v3: `expected` = transform(legacy) (every target item; () if bad or not
    migrated), `actual` = v3 at each of their keys, in the same order."""

    legacy: Item | None
    expected: tuple[Item, ...] = ()
    error: TransformError | None = None
    actual: tuple[Item | None, ...] = ()
    stable: bool = True  # False: legacy kept changing across the v3 reads; never repair from it

    def pairs(self) -> Iterator[tuple[Item, Item | None]]:
        return zip(self.expected, self.actual, strict=True)


@dataclass
class Checker:
    client: Any
    tables: Tables
    sink: DifferenceSink
    repair: bool = False

    def __post_init__(self) -> None:
        self.migration: Migration = self.tables.migration
        self.keys = Keys(self.migration)
        self.key_names = self.migration.target.key_names
        self.writer = V3Writer(self.client, self.tables.v3, self.migration)
        self.quarantine = QuarantineStore(self.client, self.tables.quarantine, self.migration)

    # -- reads ---------------------------------------------------------------------------------
    def legacy(self, source: str, key: str) -> dict[str, Any] | None:
        """The legacy item of `source` whose key text is `key` (None if absent, or `key` is no key of it)."""
        try:
            source_key = self.migration.parse_source_key(source, key)
        except MigrationError:
            return None
        return get_item(self.client, self.tables.source_table(source), source_key)

    def v3(self, key: TargetKey) -> dict[str, Any] | None:
        return get_item(self.client, self.tables.v3, dict(zip(self.key_names, key, strict=True)))

    def target_key(self, item: Item) -> TargetKey:
        return self.migration.target_key(item)

    def is_quarantined(self, source: str, key: str) -> bool:
        entry = call_with_retry(lambda: self.quarantine.get(source, key))
        return entry is not None and entry.status == OPEN

    def snapshot(self, source: str, key: str) -> Snapshot:
        """Read legacy (to find the keys), v3 at each, then legacy again; retried while legacy moves under it."""
        first = self.legacy(source, key)
        for _ in range(MAX_ATTEMPTS):
            if first is None:
                return Snapshot(None)
            try:
                expected = tuple(self.migration.transform(source, first))
            except TransformError as err:
                return Snapshot(first, error=err)
            actual = tuple(self.v3(self.target_key(e)) for e in expected)
            fresh = self.legacy(source, key)
            if fresh == first:
                return Snapshot(first, expected, actual=actual)
            first = fresh
        return Snapshot(first, stable=False)

    def _judged(self, snap: Snapshot, target: TargetKey | None) -> list[tuple[Item, Item | None]]:
        """The (expected, actual) pairs to judge: all of them, or only the one at `target` (the merge's
        suspect). If the item no longer produces `target` (it changed after the scan), all of them."""
        pairs = list(snap.pairs())
        if target is None:
            return pairs
        wanted = canonical(target)
        only = [(e, a) for e, a in pairs if canonical(self.target_key(e)) == wanted]
        return only or pairs

    # -- direction 1: legacy item -> its v3 items -----------------------------------------------
    def confirm_legacy(self, source: str, key: str, target: TargetKey | None = None) -> None:
        """Judge (and with `repair` fix) the target items of legacy `source` item `key`: all of them, or
        only the one at `target`."""
        snap = self.snapshot(source, key)
        if snap.legacy is None:
            return  # deleted meanwhile; any v3 leftover is the other direction's "extra"
        if snap.error is not None:
            self.bad_item(source, key, snap.error, snap.legacy)
            return
        if not snap.stable:
            self.sink.add(self._difference("different", source, key, None, detail="kept changing while being checked"))
            return
        findings = [
            (expected, actual, found)
            for expected, actual in self._judged(snap, target)
            if (found := legacy_finding(expected, actual, f"{source}#{key}")) is not None
        ]
        if not findings:
            return
        if not self.repair and self.is_rejected_write(source, key):
            self.sink.count("quarantined", len(findings))  # DynamoDB refused it: quarantined, as the contract allows
            return
        diffs = [
            self._difference(
                kind,
                source,
                key,
                self.target_key(expected),
                attributes=attrs,
                detail=_v3_state(actual),
            )
            for expected, actual, (kind, attrs) in findings
        ]
        if self.repair:
            still = self._repair_legacy(source, key, snap, target)
            for diff in diffs:
                diff.repaired = True
                diff.remaining = still(diff.v3_key or ())
        for diff in diffs:
            self.sink.add(diff)

    def _difference(
        self, kind: str, source: str | None, key: str | None, v3_key: TargetKey | None, **fields: Any
    ) -> Difference:
        return Difference(kind, source, key, v3_key, key_names=self.key_names, **fields)

    def _repair_legacy(self, source: str, key: str, snap: Snapshot, target: TargetKey | None) -> Remaining:
        """Write transform(L) over exactly the v3 state of a snapshot, item by item; re-check on a failed
        condition. Returns which target keys still differ afterwards."""
        for _ in range(MAX_ATTEMPTS):
            if snap.legacy is None:
                return _never
            if snap.error is not None:
                remains = not self.is_quarantined(source, key)
                return lambda _key: remains
            if snap.stable:
                ref = f"{source}#{key}"
                todo = [(e, a) for e, a in self._judged(snap, target) if legacy_finding(e, a, ref) is not None]
                if not todo:
                    return _never
                try:
                    outcomes = [repair_put(self.writer, e, ref, a) for e, a in todo]
                except Rejected as rejected:
                    table = self.tables.source_table(source)
                    by_key = {canonical(self.target_key(e)): a for e, a in snap.pairs()}
                    seen = by_key.get(canonical(self.target_key(rejected.item))) if rejected.item else None
                    quarantine_rejected(self.writer, self.quarantine, rejected.error, table, snap.legacy, seen)
                    remains = not self.is_quarantined(source, key)
                    return lambda _key: remains
                if all(o is Outcome.WRITTEN for o in outcomes):
                    return self._still_differs(source, key, target)
            snap = self.snapshot(source, key)  # replication changed a key: judge what it holds now
        return _always

    def is_rejected_write(self, source: str, key: str) -> bool:
        entry = call_with_retry(lambda: self.quarantine.get(source, key))
        return entry is not None and entry.status == OPEN and entry.reason == WriteRejectedError.reason

    def _still_differs(self, source: str, key: str, target: TargetKey | None) -> Remaining:
        snap = self.snapshot(source, key)
        if snap.legacy is None:
            return _never
        if snap.error is not None:
            remains = not self.is_quarantined(source, key)
            return lambda _key: remains
        if not snap.stable:
            return _always
        ref = f"{source}#{key}"
        differing = {
            canonical(self.target_key(e))
            for e, a in self._judged(snap, target)
            if legacy_finding(e, a, ref) is not None
        }
        return lambda k: canonical(k) in differing

    def bad_item(self, source: str, key: str, err: TransformError, legacy: dict[str, Any]) -> None:
        """A legacy item the transform rejects: fine if quarantined, a difference if not.

        The entry is read before the legacy item is read again, and a repair writes only over that
        entry state: if replication quarantined (or the item turned good and resolved it) meanwhile,
        the repair does not add a stale entry."""
        for _ in range(MAX_ATTEMPTS):
            seen = call_with_retry(lambda: self.quarantine.get(source, key))
            if seen is not None and seen.status == OPEN:
                self.sink.count("quarantined")
                return
            fresh = self.legacy(source, key)
            if fresh is None:
                return
            try:
                self.migration.transform(source, fresh)
            except TransformError as again:
                err, legacy = again, fresh
            else:
                self.confirm_legacy(source, key)  # fixed at the source meanwhile: judge it as a good item
                return
            diff = self._difference(UNQUARANTINED, source, key, None, detail=f"{err.reason}: {err.detail}")
            if not self.repair:
                self.sink.add(diff)
                return
            opened = repair_quarantine(self.quarantine, err, self.tables.source_table(source), legacy, seen)
            if opened is not None:
                self._unless_fixed_meanwhile(source, key, opened.version)
                diff.repaired = True
                diff.remaining = not self.is_quarantined(source, key)
                self.sink.add(diff)
                return
        diff = self._difference(UNQUARANTINED, source, key, None, detail="kept changing while being checked")
        self.sink.add(diff)

    def _unless_fixed_meanwhile(self, source: str, key: str, version: str) -> None:
        """Legacy read after the entry was opened: if the item is good (or gone) by now, its good record
        may have been applied before the entry existed; resolve what we opened (only that version)."""
        after = self.legacy(source, key)
        try:
            if after is not None:
                self.migration.transform(source, after)
        except TransformError:
            return
        call_with_retry(lambda: self.quarantine.resolve(source, key, version, version))

    # -- direction 2: live v3 item -> its source ------------------------------------------------
    def confirm_v3(self, key: TargetKey) -> None:
        current, origin, reason = self._extra_reason(key)
        if current is None or reason is None:
            return
        diff = self._difference(EXTRA, origin[0] if origin else None, origin[1] if origin else None, key, detail=reason)
        if self.repair:
            diff.repaired = True
            diff.remaining = self._repair_extra(key, current)
        self.sink.add(diff)

    def _repair_extra(self, key: TargetKey, current: dict[str, Any] | None) -> bool:
        """Tombstone exactly the live item read (before its source was read); re-check if it changed."""
        for _ in range(MAX_ATTEMPTS):
            if current is None:
                return False
            if repair_extra(self.writer, key, current) is Outcome.WRITTEN:
                return self._extra_reason(key)[2] is not None
            current, _, reason = self._extra_reason(key)
            if reason is None:
                return False
        return True

    def _extra_reason(self, key: TargetKey) -> tuple[dict[str, Any] | None, SourceRef | None, str | None]:
        """(live v3 item, its source, why it should not exist) from consistent reads of both sides.

        The source is what the live item's `_source` names, read after the item itself."""
        current = self.v3(key)
        if current is None or is_tombstone(current):
            return None, None, None
        origin = source_of_v3(current, self.migration)
        if origin is None:
            return current, None, UNKNOWN_RECORD
        reason = v3_finding(key, self.legacy(*origin), origin[0], self.migration)
        return current, origin, reason


def _v3_state(actual: dict[str, Any] | None) -> str:
    """What v3 held at the key, for the report: nothing, a tombstone, or a live item's version."""
    if actual is None:
        return "not in v3"
    version = actual.get("_version")
    return f"v3 holds a tombstone (_version {version})" if is_tombstone(actual) else f"v3 _version {version}"
