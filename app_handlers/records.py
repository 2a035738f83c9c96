"""The one response shape, whichever table served it, and the shadow comparison (pure).

The public shape is the v3 business view: `transform(legacy item)` or the v3 item, without
bookkeeping (`_...`) and structural attributes (`recordType`, `entityType`), with the contract's
renamed `timestamp` shown as `createdAt`. Presenting both sources through the same function makes
the shadow comparison compare like with like: a difference is a real replication difference.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary

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
    "json_text",
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


def json_text(value: Any) -> str:
    """`value` (a presented record, a list of them, a response body) as JSON text, every DynamoDB type
    included (docs/API.md, "JSON shape of attributes"):

    - numbers (N, Decimal) are JSON numbers written in their exact decimal text: never through a
      float, so all 38 significant digits DynamoDB keeps reach the client;
    - binary (B) is its base64 text (standard alphabet, padded), as DynamoDB's own JSON spells it;
    - sets become sorted lists: strings (SS) by code point, numbers (NS) numerically, binaries (BS)
      by their bytes, then written as base64;
    - maps (M) with sorted keys, lists (L), null (NULL) and booleans (BOOL) as themselves.

    Raises TypeError naming the type for anything else (a bug, never a client's input)."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def _write(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, (bool, str)):
        out.append(json.dumps(value))
    elif isinstance(value, Decimal):
        out.append(_number(value))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(json.dumps(value, allow_nan=False))
    elif isinstance(value, (Binary, bytes, bytearray)):
        out.append(json.dumps(_base64(value)))
    elif isinstance(value, dict):
        out.append("{")
        for n, key in enumerate(sorted(value)):
            out.append(", " if n else "")
            out.append(json.dumps(str(key)) + ": ")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for n, element in enumerate(value):
            out.append(", " if n else "")
            _write(element, out)
        out.append("]")
    elif isinstance(value, (set, frozenset)):
        _write(_sorted_set(value), out)
    else:
        raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def _number(value: Decimal) -> str:
    """Decimal's own text, a valid JSON number for every finite value ("1.5", "-0", "1E+125")."""
    if not value.is_finite():
        raise TypeError(f"{value} is not a JSON number (DynamoDB stores no NaN or Infinity)")
    return str(value)


def _raw_bytes(value: Binary | bytes | bytearray) -> bytes:
    if isinstance(value, Binary):
        return bytes(value.value)  # type: ignore[attr-defined]  # boto3-stubs omit Binary.value
    return bytes(value)


def _base64(value: Binary | bytes | bytearray) -> str:
    return base64.b64encode(_raw_bytes(value)).decode("ascii")


def _sorted_set(value: set[Any] | frozenset[Any]) -> list[Any]:
    """A DynamoDB set holds one type: SS by code point, NS numerically, BS by bytes (as base64)."""
    if all(isinstance(v, str) for v in value):
        return sorted(value)
    if all(isinstance(v, (Decimal, int)) and not isinstance(v, bool) for v in value):
        return sorted(value)
    if all(isinstance(v, (Binary, bytes, bytearray)) for v in value):
        return [_base64(v) for v in sorted(value, key=_raw_bytes)]
    return sorted(value, key=json_text)  # not from DynamoDB: any stable order
