"""Quarantine: where bad legacy items go instead of v3, visible to operators and re-drivable.

One entry per source item (pk = source role, sk = source key), so a repeatedly-bad item is one
entry, updated, not a growing pile. The raw item is kept as DynamoDB JSON so nothing is lost.

Entries are monotonic in version (DESIGN.md "Quarantine"): a put lands only with a version above
the entry's own and above the version that resolved it (`resolvedBy`), so a replayed old record
can neither overwrite a newer entry nor re-open one a newer good version resolved; a resolve lands
only on the exact open entry version the resolver looked at, so it never closes a newer entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from cutover.clock import utc_now
from cutover.codec import from_ddb, json_default, to_ddb
from cutover.migration import Migration, MigrationError
from cutover.migration_loader import load_migration
from cutover.transform_errors import TransformError

OPEN = "open"
RESOLVED = "resolved"


@dataclass(frozen=True)
class QuarantineEntry:
    source: str
    key: str
    table: str
    reason: str
    detail: str
    raw: dict[str, Any]  # DynamoDB JSON of the legacy item as seen
    version: str
    origin: str  # replication | backfill | reconcile | redrive
    seen_at: str
    status: str = OPEN
    resolved_by: str = ""  # the (good) version that resolved it; older records can never re-open it

    @property
    def floor(self) -> str:
        """Every later put must carry a version above this."""
        return max(self.version, self.resolved_by)

    def to_item(self) -> dict[str, Any]:
        extra = {"resolvedBy": self.resolved_by} if self.resolved_by else {}
        return extra | {
            "pk": self.source,
            "sk": self.key,
            "table": self.table,
            "reason": self.reason,
            "detail": self.detail,
            # binaries as base64 text, the form `from_ddb` reads back (as in Lambda's event JSON)
            "raw": json.dumps(self.raw, sort_keys=True, default=json_default),
            "version": self.version,
            "origin": self.origin,
            "seenAt": self.seen_at,
            "status": self.status,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> QuarantineEntry:
        return cls(
            source=item["pk"],
            key=item["sk"],
            table=item["table"],
            reason=item["reason"],
            detail=item["detail"],
            raw=json.loads(item["raw"]),
            version=item["version"],
            origin=item["origin"],
            seen_at=item["seenAt"],
            status=item.get("status", OPEN),
            resolved_by=item.get("resolvedBy", ""),
        )

    def legacy_item(self) -> dict[str, Any]:
        return from_ddb(self.raw)


def entry_for(
    error: TransformError,
    table: str,
    raw_item: dict[str, Any],
    version: str,
    origin: str,
    clock: Callable[[], str] = utc_now,
) -> QuarantineEntry:
    """Build the entry for a transform error. `raw_item` is the plain (deserialised) legacy item."""
    key = error.key_text or f"<no key:{json.dumps(raw_item, default=json_default, sort_keys=True)[:200]}>"
    return QuarantineEntry(
        source=error.source,
        key=key,
        table=table,
        reason=error.reason,
        detail=error.detail,
        raw=to_ddb(raw_item),
        version=version,
        origin=origin,
        seen_at=clock(),
    )


class QuarantineStore:
    """The quarantine table. `migration` (default: the process's definition) parses source keys."""

    def __init__(self, client: Any, table_name: str, migration: Migration | None = None) -> None:
        self._client = client
        self.table_name = table_name
        self._migration = migration

    def _put_item(self, entry: QuarantineEntry, **condition: Any) -> None:
        """PutItem; if the raw item itself is over DynamoDB's limit, keep only its key (and say so)."""
        try:
            self._client.put_item(TableName=self.table_name, Item=to_ddb(entry.to_item()), **condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ValidationException":
                raise
            key_only = self._key_only(entry)
            smaller = replace(
                entry,
                raw=to_ddb(key_only),
                detail=entry.detail + " (raw item too large to keep: only its key is stored)",
            )
            self._client.put_item(TableName=self.table_name, Item=to_ddb(smaller.to_item()), **condition)

    def _key_only(self, entry: QuarantineEntry) -> dict[str, Any]:
        migration = self._migration or load_migration()
        if entry.source in migration.roles:
            try:
                return migration.parse_source_key(entry.source, entry.key)
            except MigrationError:
                pass  # a "<no key...>" entry: nothing to keep but the note
        return {"record": "<too large>"}

    def put(self, entry: QuarantineEntry) -> bool:
        """Record an entry unless the stored one is as new or newer, or was resolved by a version as new
        or newer (False then): a replay (redelivery, second consumer, crash before checkpoint) is a no-op."""
        return self._conditional(
            lambda: self._put_item(
                entry,
                ConditionExpression="attribute_not_exists(pk) OR (#v < :v AND (attribute_not_exists(#rb) OR #rb < :v))",
                ExpressionAttributeNames={"#v": "version", "#rb": "resolvedBy"},
                ExpressionAttributeValues={":v": {"S": entry.version}},
            )
        )

    def put_over(self, entry: QuarantineEntry, seen: QuarantineEntry | None) -> bool:
        """Write `entry` only if the stored entry is still exactly `seen` (same version and status; None: absent)."""
        if seen is None:
            return self._conditional(lambda: self._put_item(entry, ConditionExpression="attribute_not_exists(pk)"))
        return self._conditional(
            lambda: self._put_item(
                entry,
                ConditionExpression="#v = :seen AND #s = :status",
                ExpressionAttributeNames={"#v": "version", "#s": "status"},
                ExpressionAttributeValues=to_ddb({":seen": seen.version, ":status": seen.status}),
            )
        )

    def replace(self, entry: QuarantineEntry, seen_version: str) -> bool:
        """Overwrite exactly the entry version `seen_version` (a re-drive that found the item still bad)."""
        return self._conditional(
            lambda: self._put_item(
                entry,
                ConditionExpression="#v = :seen",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":seen": {"S": seen_version}},
            )
        )

    def get(self, source: str, key: str) -> QuarantineEntry | None:
        resp = self._client.get_item(
            TableName=self.table_name, Key=to_ddb({"pk": source, "sk": key}), ConsistentRead=True
        )
        return QuarantineEntry.from_item(from_ddb(resp["Item"])) if "Item" in resp else None

    def resolve(self, source: str, key: str, seen_version: str, resolved_by: str = "") -> bool:
        """Resolve the open entry the caller looked at (version `seen_version`); False if it changed since.

        `resolved_by` is the good version that fixed it (at least `seen_version`): records up to it
        can never re-open the entry.
        """
        resolved_by = max(seen_version, resolved_by)
        return self._set_resolved(source, key, "#s = :open AND #v = :seen", seen_version, resolved_by)

    def resolve_older(self, source: str, key: str, good_version: str) -> bool:
        """Replication applied a good `good_version`: resolve the entry if it is open and older (else no-op)."""
        return self._set_resolved(source, key, "#s = :open AND #v < :seen", good_version, good_version)

    def _set_resolved(self, source: str, key: str, condition: str, seen: str, resolved_by: str) -> bool:
        return self._conditional(
            lambda: self._client.update_item(
                TableName=self.table_name,
                Key=to_ddb({"pk": source, "sk": key}),
                UpdateExpression="SET #s = :r, #rb = :rb",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status", "#v": "version", "#rb": "resolvedBy"},
                ExpressionAttributeValues=to_ddb({":r": RESOLVED, ":open": OPEN, ":seen": seen, ":rb": resolved_by}),
            )
        )

    @staticmethod
    def _conditional(call: Callable[[], Any]) -> bool:
        try:
            call()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def entries(self, include_resolved: bool = False) -> Iterator[QuarantineEntry]:
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(TableName=self.table_name, ConsistentRead=True):
            for raw in page.get("Items", []):
                entry = QuarantineEntry.from_item(from_ddb(raw))
                if include_resolved or entry.status == OPEN:
                    yield entry

    def count_open(self) -> int:
        return sum(1 for _ in self.entries())
