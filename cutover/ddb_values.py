"""Equality of DynamoDB values by DynamoDB's types, and one canonical form (and digest) of exactly it.

Python's `==` is the wrong judge of "v3 holds what legacy holds": `True == Decimal(1)`, a
string set equals nothing of another set type only by accident of element types, and Decimal's
default 28-digit context rounds when asked to normalise, while DynamoDB numbers carry 38
significant digits. Every place that compares items (the reconciler's page check and merge
digest, repair, re-drive, shadow) uses `equal` here, so a CLEAN report means equal as DynamoDB
stores them:

- type first: string (S), number (N), binary (B), boolean (BOOL), null (NULL), map (M),
  list (L), and the three sets (SS, NS, BS) are never equal across types (`"1"` != `1` !=
  `b"1"` != `True`; a string set is not a list);
- numbers by their exact decimal value, whatever the precision (`1.50` == `1.5`, `-0` == `0`,
  digit 38 counts);
- sets unordered, lists ordered, maps by key; empty strings are values like any other.

`canonical(v)` is a text form with `canonical(a) == canonical(b)` if and only if `equal(a, b)`
(tests/properties/test_ddb_values.py proves it over generated values), and `digest` a SHA-256-
strength (BLAKE2b, 32 bytes) hash of it, so digests can stand in for items in the merge.

Values are what boto3's TypeDeserializer produces (Decimal, str, bytes or `Binary`, bool, None,
dict, list, set); `int` and `float` are accepted as numbers for hand-built items.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

DIGEST_SIZE = 32


def equal(a: Any, b: Any) -> bool:
    """Equal as DynamoDB values (see the module docstring for the rules)."""
    return canonical(a) == canonical(b)


def visible(item: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes that carry data: bookkeeping attributes start with `_` and are never compared."""
    return {k: v for k, v in item.items() if not k.startswith("_")}


def differing(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """Names of the visible attributes that are absent on one side or not `equal`, sorted."""
    want, have = visible(expected), visible(actual)
    names = want.keys() | have.keys()
    return sorted(n for n in names if n not in want or n not in have or not equal(want[n], have[n]))


def digest(item: Mapping[str, Any]) -> bytes:
    """The digest of `item`'s visible attributes: equal digests for `equal` items (and, but for a
    BLAKE2b collision, only for them)."""
    form = canonical(visible(item)).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(form, digest_size=DIGEST_SIZE).digest()


def canonical(value: Any) -> str:
    """A type-tagged, length-prefixed text form of one value: one form per DynamoDB value."""
    if isinstance(value, bool):  # before numbers: bool is an int in Python, a BOOL in DynamoDB
        return "T" if value else "F"
    if isinstance(value, str):
        return f"s{len(value)}:{value}"
    if isinstance(value, Decimal | int | float):
        return f"n{number(value)};"
    if value is None:
        return "z"
    raw = binary_bytes(value)
    if raw is not None:
        return f"b{raw.hex()};"
    if isinstance(value, Mapping):
        body = "".join(
            f"s{len(str(k))}:{k}" + canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
        )
        return f"m{len(value)}{{{body}}}"
    if isinstance(value, set | frozenset):
        return _set(value)
    if isinstance(value, list | tuple):
        return f"l{len(value)}[{''.join(canonical(v) for v in value)}]"
    raise TypeError(f"{type(value).__name__} is not a DynamoDB value; deserialise the item with cutover.codec first")


def number(value: Decimal | int | float) -> str:
    """The exact value of a number as `<sign><digits>e<exponent>`, trailing zeros stripped.

    No context is involved, so no digit is ever rounded away (Decimal.normalize() rounds to 28).
    """
    dec = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    if not dec.is_finite():
        raise ValueError(f"{value!r} is not a DynamoDB number (DynamoDB has no NaN or Infinity)")
    sign, digits, exponent = dec.as_tuple()
    assert isinstance(exponent, int)  # finite
    text = "".join(map(str, digits)).lstrip("0")
    if not text:
        return "0"
    stripped = text.rstrip("0")
    return f"{'-' if sign else ''}{stripped}e{exponent + len(text) - len(stripped)}"


def _set(value: set[Any] | frozenset[Any]) -> str:
    """Sets are SS, NS or BS; the tag says which, so an empty set of one kind is its own value."""
    forms = sorted(canonical(v) for v in value)
    kinds = {f[0] for f in forms}
    kind = kinds.pop() if len(kinds) == 1 else ("?" if not kinds else "*")
    return f"t{kind}{len(forms)}[{''.join(forms)}]"


def binary_bytes(value: object) -> bytes | None:
    """The bytes of a DynamoDB binary as items hold it (bytes, or boto3's `Binary` wrapper, duck-typed
    so the foundation imports no AWS SDK); None for any other value."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    inner = getattr(value, "value", None)
    if type(value).__name__ == "Binary" and isinstance(inner, bytes | bytearray):
        return bytes(inner)
    return None
