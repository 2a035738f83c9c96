"""The seed migration's legacy -> v3 transform (docs/CONTRACT.md). Pure functions of one item.

Input and output are plain Python values as boto3's TypeDeserializer produces them (numbers are
Decimal). Every bad input raises a `TransformError` subclass; nothing partial is ever returned.

The engine never imports it: it runs whatever definition is loaded (`cutover.migration_loader`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cutover.migration import (
    InvalidIndexKeyError,
    MissingKeyError,
    ReservedAttributeError,
    TransformError,
    shown,
)
from migrations.seed.errors import InvalidEmailError, InvalidTimestampError, InvalidUserIdError
from migrations.seed.timestamps import UnparseableTimestamp, normalise_timestamp

Item = dict[str, Any]
V3Key = tuple[str, str]  # (userId, recordType)

# The seed's names. `cutover.names` still spells the same strings for the engine until it reads
# them from the definition; tests/unit/test_migration_seed.py proves they agree.
USERS = "users"
ORDERS = "orders"
EMAIL_LOOKUP_INDEX = "EmailLookupIndex"
TIME_SERIES_INDEX = "TimeSeriesIndex"

PROFILE = "PROFILE"
ORDER_PREFIX = "ORDER#"
SOURCE_KEY = {USERS: "userId", ORDERS: "orderId"}
_OWNED = frozenset({"recordType", "entityType", "timestamp"})
# v3 GSI key attributes: DynamoDB refuses an item whose index key is "" or not a string (type S)
_INDEX_KEYS = {"email": EMAIL_LOOKUP_INDEX, "entityType": TIME_SERIES_INDEX, "timestamp": TIME_SERIES_INDEX}


def source_key(source: str, item: Mapping[str, Any]) -> str:
    """The legacy primary key value; raises MissingKeyError if absent or not a non-empty string."""
    name = SOURCE_KEY[source]
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise MissingKeyError(source, value, f"has no string {name} (its primary key)")
    return value


def transform(source: str, item: Mapping[str, Any]) -> list[Item]:
    """Map one legacy item to the v3 items it becomes (exactly one for users and orders)."""
    out = _TRANSFORMS[source](item)
    _check_index_keys(source, item, out)
    return [out]


def v3_keys(source: str, item: Mapping[str, Any]) -> list[V3Key]:
    """The v3 keys this legacy image occupies, or [] if it was never writable (bad image)."""
    try:
        return [(i["userId"], i["recordType"]) for i in transform(source, item)]
    except TransformError:
        return []


def _users(item: Mapping[str, Any]) -> Item:
    key = source_key(USERS, item)
    _reject_reserved(USERS, key, item)
    email = item.get("email")
    if not isinstance(email, str):
        raise InvalidEmailError(USERS, key, f"email must be a string, got {_kind(email)}")
    email = email.strip().lower()
    if not email:
        raise InvalidEmailError(USERS, key, "email is empty after removing whitespace")
    out = _copy_others(item)
    out.update(userId=key, recordType=PROFILE, entityType="USER", email=email)
    _set_timestamp(USERS, key, item, out)
    return out


def _orders(item: Mapping[str, Any]) -> Item:
    key = source_key(ORDERS, item)
    _reject_reserved(ORDERS, key, item)
    user_id = item.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise InvalidUserIdError(ORDERS, key, f"userId must be a non-empty string, got {_kind(user_id)}")
    out = _copy_others(item)
    out.update(userId=user_id, recordType=ORDER_PREFIX + key, entityType="ORDER", orderId=key)
    _set_timestamp(ORDERS, key, item, out)
    return out


_TRANSFORMS: dict[str, Callable[[Mapping[str, Any]], Item]] = {USERS: _users, ORDERS: _orders}


def _copy_others(item: Mapping[str, Any]) -> Item:
    return {k: v for k, v in item.items() if k != "createdAt"}


def _set_timestamp(source: str, key: str, item: Mapping[str, Any], out: Item) -> None:
    if "createdAt" not in item:
        return
    try:
        out["timestamp"] = normalise_timestamp(item["createdAt"])
    except UnparseableTimestamp as exc:
        raise InvalidTimestampError(source, key, f"createdAt cannot be parsed: {exc}") from exc


def _reject_reserved(source: str, key: str, item: Mapping[str, Any]) -> None:
    clashes = sorted(k for k in item if k.startswith("_") or k in _OWNED)
    if clashes:
        raise ReservedAttributeError(
            source,
            key,
            f"carries attribute(s) {', '.join(clashes)} that the v3 transform owns; rename them at the source",
        )


def _check_index_keys(source: str, item: Mapping[str, Any], out: Item) -> None:
    """Reject up front what DynamoDB would refuse at write time: a GSI key that is not a non-empty string."""
    for name, index in _INDEX_KEYS.items():
        if name in out and (not isinstance(out[name], str) or not out[name]):
            raise InvalidIndexKeyError(
                source,
                source_key(source, item),
                f"{name} is a key of the v3 index {index} and must be a non-empty string, got {_kind(out[name])}; "
                f"fix or remove {name} at the source",
            )


def _kind(value: object) -> str:
    return shown(value)
