"""The only code that writes the v3 table. Every write is conditional.

Stream writes (`put` / `tombstone`) carry the record's version: newer version wins. Every other
write is conditional on the exact v3 state it was derived from (DESIGN.md "Non-stream writes"):
`fill` (backfill) on the key's absence, `put_over` / `tombstone_over` (repair, re-drive) on the
`_version` the caller read (or the key's absence). A failed condition is an expected outcome
(SKIPPED), not an error; anything else propagates so the caller can retry, re-check or quarantine.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from cutover.codec import to_ddb
from cutover.ddb_values import differing
from cutover.migration import Item, Migration
from cutover.migration_loader import load_migration
from cutover.transform_errors import TransformError
from replicator.contract.versioning import BACKFILL_VERSION, bump

TargetKey = tuple[Any, ...]  # the target item's key values: (hash,) or (hash, range)

_NEWER_WINS = "attribute_not_exists(#pk) OR attribute_not_exists(#ver) OR #ver < :ver"
_ABSENT = "attribute_not_exists(#pk)"
_SAME_VERSION = "#ver = :seen"
_UNVERSIONED = "attribute_exists(#pk) AND attribute_not_exists(#ver)"
PERMANENT_WRITE_ERRORS = frozenset({"ValidationException"})  # DynamoDB refuses the item for good


class Outcome(enum.Enum):
    WRITTEN = "written"
    SKIPPED = "skipped"  # the condition failed: v3 holds this version or newer, or is no longer what was read
    REPLACED_LIVE = "replaced-live"  # `tombstone` only: written, over a live item (v3 stopped serving it)


class WriteRejectedError(TransformError):
    """DynamoDB refused the v3 write for good (ValidationException, not throttling): retrying cannot help."""

    reason = "write_rejected"


def is_rejected(exc: BaseException) -> bool:
    """A permanent refusal of the item itself (over 400 KB, bad index key type...), not a transient error."""
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in PERMANENT_WRITE_ERRORS


def rejected_error(source: str, key: str, exc: ClientError, what_happened: str) -> WriteRejectedError:
    error = exc.response.get("Error", {})
    return WriteRejectedError(
        source,
        key,
        f"DynamoDB rejected the v3 write ({error.get('Code')}: {error.get('Message', exc)}); {what_happened}. "
        "Fix the source item (e.g. keep it under 400 KB) and re-drive it",
    )


def tombstone_item(key: TargetKey, version: str, source_ref: str, key_names: Sequence[str] | None = None) -> Item:
    """A tombstone: the target key and bookkeeping only, so it is in no GSI keyed on any other
    attribute; readers treat it as absent. `key_names` default to the process's definition."""
    names = tuple(key_names) if key_names is not None else load_migration().target.key_names
    return {**dict(zip(names, key, strict=True)), "_deleted": True, "_version": version, "_source": source_ref}


def is_tombstone(item: Item | None) -> bool:
    return bool(item and item.get("_deleted"))


def version_of(item: Item | None) -> str | None:
    """The `_version` of a v3 item as read (None if absent or unversioned)."""
    return None if item is None or item.get("_version") is None else str(item["_version"])


def same_visible(expected: Item, actual: Item | None) -> bool:
    """v3 already serves `expected`: live, and equal by DynamoDB's types ignoring `_` bookkeeping."""
    if actual is None or is_tombstone(actual):
        return False
    return not differing(expected, actual)


class V3Writer:
    """Writes the target table. `migration` gives its key (default: the process's definition)."""

    def __init__(self, client: Any, table_name: str, migration: Migration | None = None) -> None:
        self._client = client
        self.table_name = table_name
        self.key_names = (migration or load_migration()).target.key_names

    # -- the stream: newer version wins --------------------------------------------------------
    def put(self, item: Item, version: str, source_ref: str) -> Outcome:
        """Write `item` unless v3 already holds `version` or newer at its key."""
        return self._put({**item, "_version": version, "_source": source_ref}, _NEWER_WINS, {":ver": version})

    def tombstone(self, key: TargetKey, version: str, source_ref: str) -> Outcome:
        """Tombstone `key` unless v3 holds `version` or newer there: REPLACED_LIVE if it held a live
        item, WRITTEN if it held nothing or a tombstone (the write then only guards the key)."""
        old: list[dict[str, Any]] = []
        item = tombstone_item(key, version, source_ref, self.key_names)
        outcome = self._put(item, _NEWER_WINS, {":ver": version}, old)
        if outcome is Outcome.WRITTEN and old and "_deleted" not in old[0]:
            return Outcome.REPLACED_LIVE
        return outcome

    # -- everything else: conditional on the exact state it was derived from --------------------
    def fill(self, item: Item, source_ref: str) -> Outcome:
        """Backfill: write only if replication (or an earlier fill) never touched the key."""
        return self._put({**item, "_version": BACKFILL_VERSION, "_source": source_ref}, _ABSENT, {})

    def put_over(self, item: Item, seen: Item | None, source_ref: str) -> Outcome:
        """Repair/re-drive: replace exactly `seen` (the v3 item read before the legacy read; None = absent).

        Carries `bump(seen's version)`: above it, below any later stream record, which therefore
        still wins. If v3 changed since `seen` was read, SKIPPED: the caller must re-check.
        """
        return self._put({**item, "_version": bump(version_of(seen)), "_source": source_ref}, *_exactly(seen))

    def tombstone_over(self, key: TargetKey, seen: Item, source_ref: str) -> Outcome:
        """Repair of a live item whose source is gone or moved: tombstone exactly `seen`, nothing newer."""
        return self._put(tombstone_item(key, bump(version_of(seen)), source_ref, self.key_names), *_exactly(seen))

    def _put(
        self, item: Item, condition: str, values: dict[str, str], old: list[dict[str, Any]] | None = None
    ) -> Outcome:
        """Conditional PutItem; with `old`, the replaced item (DynamoDB JSON, ReturnValues=ALL_OLD, no
        extra capacity) is appended to it when there was one."""
        pairs = (("#pk", self.key_names[0]), ("#ver", "_version"))
        names = {k: v for k, v in pairs if k in condition}  # AWS refuses unused names
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": to_ddb(item),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = {k: {"S": v} for k, v in values.items()}
        if old is not None:
            kwargs["ReturnValues"] = "ALL_OLD"
        try:
            resp = self._client.put_item(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return Outcome.SKIPPED
            raise
        if old is not None and resp.get("Attributes"):
            old.append(resp["Attributes"])
        return Outcome.WRITTEN


def _exactly(seen: Item | None) -> tuple[str, dict[str, str]]:
    """The condition "v3 still holds exactly `seen`" (same `_version`, or still absent)."""
    if seen is None:
        return _ABSENT, {}
    version = version_of(seen)
    if version is None:
        return _UNVERSIONED, {}
    return _SAME_VERSION, {":seen": version}
