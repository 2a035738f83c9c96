"""Confirm a suspected difference with strongly consistent reads, then report (and maybe repair) it.

The first pass reads cheaply (eventually consistent Scan/BatchGetItem). Anything that looks
wrong is read again here with ConsistentRead on both sides, so an item replication is about to
write is not reported as loss. With `repair`, the fix is applied and the key read once more.

Read order matters (DESIGN.md "Non-stream writes"): a snapshot reads v3 first and the legacy
item after it (a first legacy read only finds the v3 key), and a repair is conditional on exactly
the v3 state of that snapshot. A snapshot whose legacy item changed across the v3 read, or a
repair whose condition failed, is taken again: replication moved on, so judge the new state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cutover.batch_get import get_item
from cutover.retry import call_with_retry
from cutover.tables import Tables
from reconciler.compare import EXTRA, UNKNOWN_RECORD, UNQUARANTINED, legacy_finding, source_of_v3, v3_finding, v3_key
from reconciler.repair import Rejected, quarantine_rejected, repair_extra, repair_put, repair_quarantine
from reconciler.report import Difference, DifferenceSink
from replicator.contract.errors import TransformError
from replicator.contract.transform import SOURCE_KEY, Item, V3Key, transform
from replicator.quarantine import OPEN, QuarantineStore
from replicator.v3_writer import Outcome, V3Writer, WriteRejectedError, is_tombstone

MAX_ATTEMPTS = 5  # snapshots / conditional writes per key before it is reported as still changing


@dataclass(frozen=True)
class Snapshot:
    """Legacy read after v3: `expected` = transform(legacy) (None if bad), `actual` = v3 at its key."""

    legacy: Item | None
    expected: Item | None = None
    error: TransformError | None = None
    actual: Item | None = None
    stable: bool = True  # False: legacy kept changing across the v3 read; never repair from it


@dataclass
class Checker:
    client: Any
    tables: Tables
    sink: DifferenceSink
    repair: bool = False

    def __post_init__(self) -> None:
        self.writer = V3Writer(self.client, self.tables.v3)
        self.quarantine = QuarantineStore(self.client, self.tables.quarantine)

    # -- reads ---------------------------------------------------------------------------------
    def legacy(self, source: str, key: str) -> dict[str, Any] | None:
        return get_item(self.client, self.tables.source_table(source), {SOURCE_KEY[source]: key})

    def v3(self, key: V3Key) -> dict[str, Any] | None:
        return get_item(self.client, self.tables.v3, {"userId": key[0], "recordType": key[1]})

    def is_quarantined(self, source: str, key: str) -> bool:
        entry = call_with_retry(lambda: self.quarantine.get(source, key))
        return entry is not None and entry.status == OPEN

    def snapshot(self, source: str, key: str) -> Snapshot:
        """Read legacy (to find the key), v3, then legacy again; retried while legacy moves under it."""
        first = self.legacy(source, key)
        for _ in range(MAX_ATTEMPTS):
            if first is None:
                return Snapshot(None)
            try:
                expected = transform(source, first)[0]
            except TransformError as err:
                return Snapshot(first, error=err)
            actual = self.v3(v3_key(expected))
            fresh = self.legacy(source, key)
            if fresh == first:
                return Snapshot(first, expected, actual=actual)
            first = fresh
        return Snapshot(first, stable=False)

    # -- direction 1: legacy item -> its v3 item ------------------------------------------------
    def confirm_legacy(self, source: str, key: str) -> None:
        snap = self.snapshot(source, key)
        if snap.legacy is None:
            return  # deleted meanwhile; any v3 leftover is the other direction's "extra"
        if snap.error is not None:
            self.bad_item(source, key, snap.error, snap.legacy)
            return
        if not snap.stable or snap.expected is None:
            self.sink.add(Difference("different", source, key, None, detail="kept changing while being checked"))
            return
        finding = legacy_finding(snap.expected, snap.actual)
        if finding is None:
            return
        if not self.repair and self.is_rejected_write(source, key):
            self.sink.count("quarantined")  # DynamoDB refused it: quarantined, which the contract allows
            return
        kind, attrs = finding
        diff = Difference(
            kind,
            source,
            key,
            v3_key(snap.expected),
            attributes=attrs,
            detail=_v3_state(snap.actual),
        )
        if self.repair:
            diff.repaired = True
            diff.remaining = self._repair_legacy(source, key, snap)
        self.sink.add(diff)

    def _repair_legacy(self, source: str, key: str, snap: Snapshot) -> bool:
        """Write transform(L) over exactly the v3 state of a snapshot; re-check on a failed condition.

        Returns whether the key still differs afterwards."""
        for _ in range(MAX_ATTEMPTS):
            if snap.legacy is None:
                return False
            if snap.error is not None:
                return not self.is_quarantined(source, key)
            if snap.stable and snap.expected is not None:
                if legacy_finding(snap.expected, snap.actual) is None:
                    return False
                try:
                    outcome = repair_put(self.writer, snap.expected, f"{source}#{key}", snap.actual)
                except Rejected as rejected:
                    table = self.tables.source_table(source)
                    quarantine_rejected(self.writer, self.quarantine, rejected.error, table, snap.legacy, snap.actual)
                    return not self.is_quarantined(source, key)
                if outcome is Outcome.WRITTEN:
                    return self._still_differs(source, key)
            snap = self.snapshot(source, key)  # replication changed the key: judge what it holds now
        return True

    def is_rejected_write(self, source: str, key: str) -> bool:
        entry = call_with_retry(lambda: self.quarantine.get(source, key))
        return entry is not None and entry.status == OPEN and entry.reason == WriteRejectedError.reason

    def _still_differs(self, source: str, key: str) -> bool:
        snap = self.snapshot(source, key)
        if snap.legacy is None:
            return False
        if snap.error is not None:
            return not self.is_quarantined(source, key)
        return not snap.stable or snap.expected is None or legacy_finding(snap.expected, snap.actual) is not None

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
                transform(source, fresh)
            except TransformError as again:
                err, legacy = again, fresh
            else:
                self.confirm_legacy(source, key)  # fixed at the source meanwhile: judge it as a good item
                return
            diff = Difference(UNQUARANTINED, source, key, None, detail=f"{err.reason}: {err.detail}")
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
        diff = Difference(UNQUARANTINED, source, key, None, detail="kept changing while being checked")
        self.sink.add(diff)

    def _unless_fixed_meanwhile(self, source: str, key: str, version: str) -> None:
        """Legacy read after the entry was opened: if the item is good (or gone) by now, its good record
        may have been applied before the entry existed; resolve what we opened (only that version)."""
        after = self.legacy(source, key)
        try:
            if after is not None:
                transform(source, after)
        except TransformError:
            return
        call_with_retry(lambda: self.quarantine.resolve(source, key, version, version))

    # -- direction 2: live v3 item -> its source ------------------------------------------------
    def confirm_v3(self, key: V3Key) -> None:
        current, origin, reason = self._extra_reason(key)
        if current is None or reason is None:
            return
        diff = Difference(EXTRA, origin[0] if origin else None, origin[1] if origin else None, key, detail=reason)
        if self.repair:
            diff.repaired = True
            diff.remaining = self._repair_extra(key, current)
        self.sink.add(diff)

    def _repair_extra(self, key: V3Key, current: dict[str, Any] | None) -> bool:
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

    def _extra_reason(self, key: V3Key) -> tuple[dict[str, Any] | None, tuple[str, str] | None, str | None]:
        """(live v3 item, its source, why it should not exist) from consistent reads of both sides."""
        current = self.v3(key)
        origin = source_of_v3(key)
        if current is None or is_tombstone(current):
            return None, origin, None
        reason = UNKNOWN_RECORD if origin is None else v3_finding(key, self.legacy(*origin), origin[0])
        return current, origin, reason


def _v3_state(actual: dict[str, Any] | None) -> str:
    """What v3 held at the key, for the report: nothing, a tombstone, or a live item's version."""
    if actual is None:
        return "not in v3"
    version = actual.get("_version")
    return f"v3 holds a tombstone (_version {version})" if is_tombstone(actual) else f"v3 _version {version}"
