"""A 128-bit digest of an item's visible attributes: what the merge reconcile compares instead of items.

The merge (reconciler/merge_join.py) keeps one small record per item on local disk, not the item, so it
compares digests. A digest may be STRICTER than `compare.differing_attributes` (Python's ==), never
looser: equal digests mean equal canonical forms, hence equal values. Stricter is harmless: a
digest mismatch only sends the key to the checker's consistent re-read, which judges with
`legacy_finding` itself (e.g. `True` vs `Decimal(1)`, which Python calls equal, is re-read and then
found equal). Numbers are normalised (`1.50` == `1.5`, as DynamoDB stores them) so that the common
case does not cost a re-read. Attributes starting with `_` are bookkeeping and never compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

DIGEST_SIZE = 16


def digest(item: Mapping[str, Any]) -> bytes:
    """The digest of `item` without its `_` attributes (same rule as `compare.visible`)."""
    visible = {k: v for k, v in item.items() if not k.startswith("_")}
    return hashlib.blake2b(canonical(visible).encode("utf-8", "surrogatepass"), digest_size=DIGEST_SIZE).digest()


def canonical(value: Any) -> str:
    """An unambiguous, type-tagged text form: equal forms only for equal values (strings are length-prefixed)."""
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, str):
        return f"s{len(value)}:{value}"
    if isinstance(value, Decimal):
        return f"n{_number(value)};"
    if isinstance(value, int | float):
        return f"n{_number(Decimal(str(value)))};"
    if value is None:
        return "z"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"x{bytes(value).hex()};"
    if isinstance(value, Mapping):
        body = "".join(canonical(str(k)) + canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0])))
        return f"m{len(value)}{{{body}}}"
    if isinstance(value, set | frozenset):
        return f"t{len(value)}[{''.join(sorted(canonical(v) for v in value))}]"
    if isinstance(value, list | tuple):
        return f"l{len(value)}[{''.join(canonical(v) for v in value)}]"
    if hasattr(value, "value") and isinstance(value.value, bytes):  # boto3 Binary
        return canonical(value.value)
    text = repr(value)
    return f"o{len(text)}:{text}"  # unknown type: stricter than ==, so at worst a re-read


def _number(value: Decimal) -> str:
    if value.is_zero():
        return "-0" if value.is_signed() else "0"
    return str(value.normalize())
