"""The one response shape, whichever table served it, and the shadow comparison (pure).

The public shape is the v3 business view: `transform(legacy item)` or the v3 item, without
bookkeeping (`_...`) and structural attributes (`recordType`, `entityType`), with the contract's
renamed `timestamp` shown as `createdAt`. Presenting both sources through the same function makes
the shadow comparison compare like with like: a difference is a real replication difference.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from app_handlers import routing
from app_handlers.routing import MISSING_IN_LEGACY, MISSING_IN_V3
from cutover.transform_errors import TransformError
from migrations.seed.transform import transform
from replicator.v3_writer import is_tombstone

__all__ = [  # MISSING_IN_*: the routing's, re-exported for the seed's callers
    "MISSING_IN_LEGACY",
    "MISSING_IN_V3",
    "STRUCTURAL",
    "Record",
    "differences",
    "order_id",
    "present_legacy",
    "present_v3",
    "to_json",
    "transformable",
]

Record = dict[str, Any]
STRUCTURAL = frozenset({"recordType", "entityType"})


def present_v3(item: Record | None) -> Record | None:
    """The public view of a v3 item; None for absent or tombstoned items."""
    if item is None or is_tombstone(item):
        return None
    out = {k: v for k, v in item.items() if not k.startswith("_") and k not in STRUCTURAL and k != "timestamp"}
    if "timestamp" in item:
        out["createdAt"] = item["timestamp"]
    return out


def transformable(source: str, item: Record) -> bool:
    """False for an item the contract quarantines (v3 is allowed not to hold it)."""
    try:
        transform(source, item)
    except TransformError:
        return False
    return True


def present_legacy(source: str, item: Record | None) -> Record | None:
    """The public view of a legacy item. Items the transform rejects are served as stored."""
    if item is None:
        return None
    try:
        return present_v3(transform(source, item)[0])
    except TransformError:
        return dict(item)


def order_id(order: Record) -> Any:
    """An order's identity in a list: the list element key the comparisons match orders by."""
    return order.get("orderId")


def differences(legacy: Any, v3: Any) -> list[str]:
    """Names of the attributes that differ between two presented records or order lists."""
    return routing.differences(legacy, v3, identity=order_id)


def to_json(value: Any) -> Any:
    """Plain JSON values: integral Decimals as int, others as float; sets as sorted lists."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_json(v) for v in value), key=str)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    return value
