"""Pure comparison rules of the reconciler: what counts as equal, missing or extra, and sampling.

No I/O: the reconciler reads, these functions judge. Attributes starting with `_` are
bookkeeping (version, source, tombstone flag) and never compared.

A stale v3 item (older than legacy) is reported as `different`, naming the attributes that
changed: legacy items carry no version, so content is the only honest measure of "older".
"""

from __future__ import annotations

import hashlib
from typing import Any

from cutover import ddb_values
from cutover.names import ORDERS, USERS
from replicator.contract.errors import TransformError
from replicator.contract.transform import ORDER_PREFIX, PROFILE, Item, V3Key, transform
from replicator.v3_writer import is_tombstone

MISSING, EXTRA, DIFFERENT, UNQUARANTINED = "missing", "extra", "different", "unquarantined_bad_item"
SOURCE_DELETED, SOURCE_INVALID, SOURCE_MOVED, UNKNOWN_RECORD = (
    "source_deleted",
    "source_invalid",
    "source_moved",
    "unknown_record_type",
)


def visible(item: Item) -> Item:
    return ddb_values.visible(item)


def v3_key(item: Item) -> V3Key:
    return (item["userId"], item["recordType"])


def differing_attributes(expected: Item, actual: Item) -> dict[str, dict[str, Any]]:
    """Every non-`_` attribute whose value differs by DynamoDB's equality (`cutover.ddb_values`),
    with both values (absent shown as None)."""
    want, have = visible(expected), visible(actual)
    return {
        name: {"expected": want.get(name), "actual": have.get(name)} for name in ddb_values.differing(expected, actual)
    }


def legacy_finding(expected: Item, actual: Item | None) -> tuple[str, dict[str, dict[str, Any]]] | None:
    """Judge the v3 item found at transform(L)'s key: None if it matches, else (kind, attributes)."""
    if actual is None or is_tombstone(actual):
        return MISSING, {}
    attrs = differing_attributes(expected, actual)
    return (DIFFERENT, attrs) if attrs else None


def source_of_v3(key: V3Key) -> tuple[str, str] | None:
    """The legacy (source, key) a v3 key must come from: PROFILE -> users[userId], ORDER#id -> orders[id]."""
    user_id, record_type = key
    if record_type == PROFILE:
        return USERS, user_id
    if record_type.startswith(ORDER_PREFIX) and len(record_type) > len(ORDER_PREFIX):
        return ORDERS, record_type[len(ORDER_PREFIX) :]
    return None


def v3_finding(key: V3Key, legacy: Item | None, source: str) -> str | None:
    """Why a live v3 item at `key` should not exist (None if its source is there and maps to `key`)."""
    if legacy is None:
        return SOURCE_DELETED
    try:
        keys = [v3_key(i) for i in transform(source, legacy)]
    except TransformError:
        return SOURCE_INVALID
    return None if key in keys else SOURCE_MOVED


def sampled(source: str, key: str, fraction: float | None) -> bool:
    """Deterministic hash sampling on the *source* key, so both directions pick the same items."""
    if fraction is None or fraction >= 1:
        return True
    digest = hashlib.blake2b(f"{source}#{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < fraction
