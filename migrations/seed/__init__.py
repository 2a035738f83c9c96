"""The seed migration: legacy `users` and `orders` into the single table `users-v3`, exactly
docs/CONTRACT.md. The default when no other definition is named (`cutover.migration_loader`).

    cutover check --migration migrations.seed:MIGRATION
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cutover.migration import Index, Inverse, Item, Key, Migration, Source, Target
from migrations.seed.transform import (
    EMAIL_LOOKUP_INDEX,
    ORDER_PREFIX,
    ORDERS,
    PROFILE,
    TIME_SERIES_INDEX,
    USERS,
)
from migrations.seed.transform import transform as _transform  # keep `migrations.seed.transform` the module

EMAIL_INDEX = "email-index"
USER_ID_INDEX = "userId-index"
_DERIVED = ("recordType", "entityType", "timestamp")  # what the transform adds; the inverse drops


def users(item: Mapping[str, Any]) -> list[Item]:
    """A users item -> its PROFILE item."""
    return _transform(USERS, item)


def orders(item: Mapping[str, Any]) -> list[Item]:
    """An orders item -> its ORDER#<orderId> item, under the order's user."""
    return _transform(ORDERS, item)


def _legacy(item: Mapping[str, Any]) -> Item:
    """A v3 item without what the transform derived; `timestamp` goes back to `createdAt` (in the
    contract's UTC form: the original form, epoch or offset, is not recoverable)."""
    out = {k: v for k, v in item.items() if k not in _DERIVED}
    if "timestamp" in item:
        out["createdAt"] = item["timestamp"]
    return out


def is_profile(item: Mapping[str, Any]) -> bool:
    return item.get("recordType") == PROFILE


def is_order(item: Mapping[str, Any]) -> bool:
    record_type = item.get("recordType")
    return isinstance(record_type, str) and record_type.startswith(ORDER_PREFIX)


_CREATED = "normalised into timestamp (UTC, milliseconds): the original form (epoch, offset) is not kept"


def _user_items() -> Any:
    from migrations.seed.strategies import users as strategy  # hypothesis only where `cutover check` runs

    return strategy()


def _order_items() -> Any:
    from migrations.seed.strategies import orders as strategy

    return strategy()


MIGRATION = Migration(
    name="seed",
    target=Target(
        table="{service}-{stage}-users-v3",
        hash_key=Key("userId"),
        range_key=Key("recordType"),
        indexes=(
            Index(EMAIL_LOOKUP_INDEX, Key("email"), "recordType", "KEYS_ONLY"),
            Index(TIME_SERIES_INDEX, Key("entityType"), Key("timestamp"), "KEYS_ONLY"),
        ),
    ),
    sources=(
        Source(
            role=USERS,
            table="{service}-{stage}-users",
            hash_key=Key("userId"),
            indexes=(Index(EMAIL_INDEX, Key("email")),),
            transform=users,
            target_keys_of_key=lambda key: [{"userId": key["userId"], "recordType": PROFILE}],
        ),
        Source(
            role=ORDERS,
            table="{service}-{stage}-orders",
            hash_key=Key("orderId"),
            indexes=(Index(USER_ID_INDEX, Key("userId")),),
            transform=orders,
        ),
    ),
    inverses=(
        Inverse(
            kind="profile",
            source=USERS,
            matches=is_profile,
            inverse=_legacy,
            lossy={"email": "stripped and lower-cased", "createdAt": _CREATED},
        ),
        Inverse(kind="order", source=ORDERS, matches=is_order, inverse=_legacy, lossy={"createdAt": _CREATED}),
    ),
    strategies={USERS: _user_items, ORDERS: _order_items},
)
