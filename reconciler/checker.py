"""Confirm a suspected difference with strongly consistent reads, then report (and maybe repair) it.

The first pass reads cheaply (eventually consistent Scan/BatchGetItem). Anything that looks
wrong is read again here with ConsistentRead on both sides, so an item replication is about to
write is not reported as loss. With `repair`, the fix is applied and the key read once more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cutover.batch_get import get_item
from cutover.retry import call_with_retry
from cutover.tables import Tables
from reconciler.compare import EXTRA, UNKNOWN_RECORD, UNQUARANTINED, legacy_finding, source_of_v3, v3_finding, v3_key
from reconciler.repair import repair_extra, repair_put, repair_quarantine
from reconciler.report import Difference, DifferenceSink
from replicator.contract.errors import TransformError
from replicator.contract.transform import SOURCE_KEY, V3Key, transform
from replicator.quarantine import OPEN, QuarantineStore
from replicator.v3_writer import V3Writer, is_tombstone


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

    # -- direction 1: legacy item -> its v3 item ------------------------------------------------
    def confirm_legacy(self, source: str, key: str) -> None:
        legacy = self.legacy(source, key)
        if legacy is None:
            return  # deleted meanwhile; any v3 leftover is the other direction's "extra"
        try:
            expected = transform(source, legacy)[0]
        except TransformError as err:
            self.bad_item(source, key, err, legacy)
            return
        actual = self.v3(v3_key(expected))
        finding = legacy_finding(expected, actual)
        if finding is None:
            return
        kind, attrs = finding
        diff = Difference(
            kind,
            source,
            key,
            v3_key(expected),
            attributes=attrs,
            detail=f"v3 _version {actual.get('_version') if actual else None}",
        )
        if self.repair:
            repair_put(self.writer, expected, f"{source}#{key}", actual)
            diff.repaired = True
            diff.remaining = self._still_differs(source, key)
        self.sink.add(diff)

    def _still_differs(self, source: str, key: str) -> bool:
        legacy = self.legacy(source, key)
        if legacy is None:
            return False
        try:
            expected = transform(source, legacy)[0]
        except TransformError:
            return not self.is_quarantined(source, key)
        return legacy_finding(expected, self.v3(v3_key(expected))) is not None

    def bad_item(self, source: str, key: str, err: TransformError, legacy: dict[str, Any]) -> None:
        """A legacy item the transform rejects: fine if quarantined, a difference if not."""
        if self.is_quarantined(source, key):
            self.sink.count("quarantined")
            return
        fresh = self.legacy(source, key)
        if fresh is None:
            return
        if fresh != legacy:
            try:
                transform(source, fresh)
            except TransformError as again:
                err, legacy = again, fresh
            else:
                self.confirm_legacy(source, key)  # fixed at the source meanwhile: judge it as a good item
                return
            if self.is_quarantined(source, key):
                self.sink.count("quarantined")
                return
        diff = Difference(UNQUARANTINED, source, key, None, detail=f"{err.reason}: {err.detail}")
        if self.repair:
            repair_quarantine(self.quarantine, err, self.tables.source_table(source), legacy)
            diff.repaired = True
            diff.remaining = not self.is_quarantined(source, key)
        self.sink.add(diff)

    # -- direction 2: live v3 item -> its source ------------------------------------------------
    def confirm_v3(self, key: V3Key) -> None:
        current, origin, reason = self._extra_reason(key)
        if current is None or reason is None:
            return
        diff = Difference(EXTRA, origin[0] if origin else None, origin[1] if origin else None, key, detail=reason)
        if self.repair:
            repair_extra(self.writer, key, current)
            diff.repaired = True
            diff.remaining = self._extra_reason(key)[2] is not None
        self.sink.add(diff)

    def _extra_reason(self, key: V3Key) -> tuple[dict[str, Any] | None, tuple[str, str] | None, str | None]:
        """(live v3 item, its source, why it should not exist) from consistent reads of both sides."""
        current = self.v3(key)
        origin = source_of_v3(key)
        if current is None or is_tombstone(current):
            return None, origin, None
        reason = UNKNOWN_RECORD if origin is None else v3_finding(key, self.legacy(*origin), origin[0])
        return current, origin, reason
