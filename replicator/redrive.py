"""Re-drive a quarantined item after its source was fixed: re-read it, then write, re-quarantine or resolve.

The legacy item is re-read with a consistent read, because the entry's raw copy is what was
bad, not what is there now. A good item is written with `bump(entry.version)`: above the
version that was quarantined, below any later stream record, so a newer change always wins.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from cutover.codec import from_ddb, to_ddb
from cutover.names import SOURCES, Names
from replicator.contract.errors import TransformError
from replicator.contract.transform import SOURCE_KEY, transform
from replicator.contract.versioning import bump
from replicator.quarantine import QuarantineEntry, QuarantineStore, entry_for
from replicator.v3_writer import Outcome, V3Writer


class Redriven(enum.Enum):
    WRITTEN = "written"  # good now; written to v3 and resolved
    NEWER_IN_V3 = "newer-in-v3"  # good now, but v3 already holds a newer version; resolved
    GONE = "gone"  # deleted at the source; resolved
    STILL_BAD = "still-bad"  # re-read and still fails the transform; entry updated
    CANNOT = "cannot-redrive"  # not a legacy item (unparseable stream record or no key)

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
        self.quarantine = QuarantineStore(dynamodb, names.quarantine_table)
        self._writer = V3Writer(dynamodb, names.v3_table)

    def redrive(self, entry: QuarantineEntry) -> RedriveResult:
        if entry.source not in SOURCES or entry.key.startswith("<no key"):
            return RedriveResult(
                entry.source,
                entry.key,
                Redriven.CANNOT,
                entry.reason,
                "not a legacy item with a key: fix the source, then let the stream or backfill deliver it",
            )
        table = self._names.source_table(entry.source)
        resp = self._dynamodb.get_item(
            TableName=table, Key=to_ddb({SOURCE_KEY[entry.source]: entry.key}), ConsistentRead=True
        )
        if "Item" not in resp:
            self.quarantine.resolve(entry.source, entry.key)
            return RedriveResult(entry.source, entry.key, Redriven.GONE)
        item = from_ddb(resp["Item"])
        try:
            v3_items = transform(entry.source, item)
        except TransformError as err:
            self.quarantine.put(entry_for(err, table, item, entry.version, "redrive"))
            return RedriveResult(entry.source, entry.key, Redriven.STILL_BAD, err.reason, err.detail)
        outcomes = [self._writer.put(v3, bump(entry.version), f"{entry.source}#{entry.key}") for v3 in v3_items]
        self.quarantine.resolve(entry.source, entry.key)
        written = any(o is Outcome.WRITTEN for o in outcomes)
        return RedriveResult(entry.source, entry.key, Redriven.WRITTEN if written else Redriven.NEWER_IN_V3)
