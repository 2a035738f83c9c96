"""The size DynamoDB counts for an item against its 400 KB limit, by AWS's documented rules.

https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html:
an item is the sum of its attribute names (UTF-8 bytes) and values. Strings: UTF-8 bytes. Numbers:
1 byte per two significant digits (leading and trailing zeros trimmed) + 1. Binary: raw bytes.
Null and Boolean: 1 byte. List and Map: 3 bytes + each element's size + 1 byte per element (a map
element counts its name too). Sets are not spelled out there; each element counts as its type
does. A negative number is counted 1 byte more (the documented figure is "approximately"; where
it is approximate this errs on the large side). Pure: no AWS SDK (boto3's `Binary` is duck-typed).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from cutover.migration import exact_digits

MAX_ITEM_BYTES = 400 * 1024


def item_size(item: Mapping[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def value_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, (int, Decimal)):
        return _number_size(Decimal(value))
    if isinstance(value, float):
        return _number_size(Decimal(str(value)))
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, Mapping):
        return 3 + sum(len(str(k).encode()) + value_size(v) + 1 for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return 3 + sum(value_size(v) + 1 for v in value)
    if isinstance(value, (set, frozenset)):
        return sum(value_size(v) for v in value)
    inner = getattr(value, "value", None)  # boto3's Binary
    if isinstance(inner, (bytes, bytearray)):
        return len(inner)
    return len(str(value).encode())


def _number_size(number: Decimal) -> int:
    if not number.is_finite() or number.is_zero():
        return 2
    digits = len(exact_digits(number))
    return (digits + 1) // 2 + 1 + (1 if number < 0 else 0)
