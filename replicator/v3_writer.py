"""The only code that writes the v3 table. Every write is conditional on `_version`.

Replication and repair use `put` / `tombstone` (newer version wins); backfill uses `fill`
(only keys nobody has written, so it never overwrites the stream or resurrects a tombstone).
A failed condition is an expected outcome (SKIPPED), not an error; anything else propagates so
the caller can retry (Lambda) or back off (backfill).
"""

from __future__ import annotations

import enum
from typing import Any

from botocore.exceptions import ClientError

from cutover.codec import to_ddb
from replicator.contract.transform import Item, V3Key
from replicator.contract.versioning import BACKFILL_VERSION

_NEWER_WINS = "attribute_not_exists(#pk) OR attribute_not_exists(#ver) OR #ver < :ver"
_ABSENT = "attribute_not_exists(#pk)"


class Outcome(enum.Enum):
    WRITTEN = "written"
    SKIPPED = "skipped"  # v3 already holds this version or a newer one (or, for fill, anything)


def tombstone_item(key: V3Key, version: str, source_ref: str) -> Item:
    """A tombstone: in no GSI (no email/entityType/timestamp); readers treat it as absent."""
    user_id, record_type = key
    return {"userId": user_id, "recordType": record_type, "_deleted": True, "_version": version, "_source": source_ref}


def is_tombstone(item: Item | None) -> bool:
    return bool(item and item.get("_deleted"))


class V3Writer:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def put(self, item: Item, version: str, source_ref: str) -> Outcome:
        """Write `item` unless v3 already holds `version` or newer at its key."""
        return self._put({**item, "_version": version, "_source": source_ref}, _NEWER_WINS, version)

    def tombstone(self, key: V3Key, version: str, source_ref: str) -> Outcome:
        return self._put(tombstone_item(key, version, source_ref), _NEWER_WINS, version)

    def fill(self, item: Item, source_ref: str) -> Outcome:
        """Backfill: write only if replication (or an earlier fill) never touched the key."""
        return self._put({**item, "_version": BACKFILL_VERSION, "_source": source_ref}, _ABSENT, None)

    def _put(self, item: Item, condition: str, version: str | None) -> Outcome:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": to_ddb(item),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": "userId"},
        }
        if version is not None:
            kwargs["ExpressionAttributeNames"]["#ver"] = "_version"
            kwargs["ExpressionAttributeValues"] = {":ver": {"S": version}}
        try:
            self._client.put_item(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return Outcome.SKIPPED
            raise
        return Outcome.WRITTEN
