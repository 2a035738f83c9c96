"""The demo's own end-of-run check: v3 holds exactly transform(L) for every legacy item L, or L is quarantined.

A full scan of both sides; fine for demo volumes. (`cutover reconcile` is the production tool.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cutover.codec import from_ddb
from cutover.names import ORDERS, USERS, Names
from replicator.contract.errors import TransformError
from replicator.contract.transform import SOURCE_KEY, transform
from replicator.contract.versioning import BACKFILL_VERSION
from replicator.quarantine import QuarantineStore

REPAIR_SUFFIX = "~r"  # bump(): a repair or re-drive writes one step above the version it read


@dataclass
class CheckReport:
    legacy: int = 0
    matching: int = 0
    live: int = 0
    # `live` by who wrote the item last (its `_version`): backfill's fill, a stream record, a repair
    backfilled: int = 0
    replicated: int = 0
    repaired: int = 0
    tombstones: int = 0
    quarantined: int = 0
    problems: list[str] = field(default_factory=list)


def scan(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for raw in page.get("Items", []):
            yield from_ddb(raw)


def compare_v3(dynamodb: Any, names: Names) -> CheckReport:
    report = CheckReport()
    v3: dict[tuple[str, str], dict[str, Any]] = {}
    for item in scan(dynamodb, names.v3_table):
        if item.get("_deleted"):
            report.tombstones += 1
        else:
            report.live += 1
            version = str(item.get("_version", ""))
            if version == BACKFILL_VERSION:
                report.backfilled += 1
            elif version.endswith(REPAIR_SUFFIX):
                report.repaired += 1
            else:
                report.replicated += 1
            v3[(item["userId"], item["recordType"])] = {k: v for k, v in item.items() if not k.startswith("_")}
    open_entries = {(e.source, e.key) for e in QuarantineStore(dynamodb, names.quarantine_table).entries()}
    report.quarantined = len(open_entries)
    expected: set[tuple[str, str]] = set()
    for source in (USERS, ORDERS):
        for item in scan(dynamodb, names.source_table(source)):
            report.legacy += 1
            key = str(item.get(SOURCE_KEY[source]))
            try:
                outputs = transform(source, item)
            except TransformError:
                if (source, key) in open_entries:
                    report.matching += 1
                else:
                    report.problems.append(f"{source} {key}: bad item but not quarantined")
                continue
            ok = True
            for out in outputs:
                v3_key = (out["userId"], out["recordType"])
                expected.add(v3_key)
                if v3.get(v3_key) != out:
                    ok = False
                    report.problems.append(
                        f"{source} {key}: v3 {v3_key} is {'missing' if v3_key not in v3 else 'different'}"
                    )
            report.matching += ok
    report.problems += [f"v3 {k} is live but its source item is gone" for k in v3 if k not in expected]
    return report
