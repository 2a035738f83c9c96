"""The demo's own end-of-run check: v3 holds exactly transform(L) for every legacy item L, or L is quarantined.

A full scan of every side; fine for demo volumes. (`cutover reconcile` is the production tool.)
Generic over the migration definition: target keys are compared in canonical form (1.50 and 1.5
are one number), a fan-out must be in v3 item for item, and an item the transform does not
migrate (no items) expects nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cutover.codec import from_ddb
from cutover.migration import canonical
from cutover.names import Names
from cutover.transform_errors import TransformError
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
    not_migrated: int = 0  # legacy items the transform maps to no item (matching, nothing expected)
    problems: list[str] = field(default_factory=list)


def scan(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for raw in page.get("Items", []):
            yield from_ddb(raw)


def compare_v3(dynamodb: Any, names: Names) -> CheckReport:
    migration = names.migration
    report = CheckReport()
    v3: dict[tuple[Any, ...], dict[str, Any]] = {}
    shown: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # canonical key -> the key as stored, for messages
    for item in scan(dynamodb, names.v3_table):
        if item.get("_deleted"):
            report.tombstones += 1
            continue
        report.live += 1
        version = str(item.get("_version", ""))
        if version == BACKFILL_VERSION:
            report.backfilled += 1
        elif version.endswith(REPAIR_SUFFIX):
            report.repaired += 1
        else:
            report.replicated += 1
        key = migration.target_key(item)
        v3[canonical(key)] = {k: v for k, v in item.items() if not k.startswith("_")}
        shown[canonical(key)] = key
    open_entries = {(e.source, e.key) for e in QuarantineStore(dynamodb, names.quarantine_table, migration).entries()}
    report.quarantined = len(open_entries)
    expected: set[tuple[Any, ...]] = set()
    for role in names.roles:
        for item in scan(dynamodb, names.source_table(role)):
            report.legacy += 1
            key_text = migration.source_key_text(role, item)
            try:
                outputs = migration.transform(role, item)
            except TransformError:
                if (role, key_text) in open_entries:
                    report.matching += 1
                else:
                    report.problems.append(f"{role} {key_text}: bad item but not quarantined")
                continue
            if not outputs:
                report.not_migrated += 1
            ok = True
            for out in outputs:
                v3_key = migration.target_key(out)
                expected.add(canonical(v3_key))
                found = v3.get(canonical(v3_key))
                if found != out:
                    ok = False
                    report.problems.append(
                        f"{role} {key_text}: v3 {v3_key} is {'missing' if found is None else 'different'}"
                    )
            report.matching += ok
    report.problems += [f"v3 {shown[k]} is live but its source item is gone" for k in v3 if k not in expected]
    return report
