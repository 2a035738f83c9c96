"""`cutover.ddb_values`: two values have one canonical form if and only if DynamoDB calls them equal.

The reference equality here is written separately, straight from DynamoDB's type rules (S, N, B,
BOOL, NULL, M, L, SS, NS, BS; numbers by exact value; sets unordered), so the property tests the
canonical form against the rules, not against itself. Pairs are generated both independently and
as rewrites of one value (numbers rescaled, sets and maps reordered, bytes wrapped in `Binary`)
and as near misses (one digit of 38, a bool for a number, bytes for a string), so both sides of
the "if and only if" are exercised often.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary
from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.ddb_values import canonical, digest, equal

_numbers = st.builds(
    lambda digits, exp, neg: Decimal(f"{'-' if neg else ''}{digits}E{exp}"),
    st.integers(0, 10**38 - 1),
    st.integers(-130, 90),
    st.booleans(),
)
# A small pool of values Python confuses (True == 1, 1 == 1.0) so independent draws often meet
_confusable = st.sampled_from([True, False, Decimal(1), Decimal("1.0"), Decimal(0), Decimal("-0"), "1", b"1", "", None])
_scalars = st.one_of(_confusable, st.text(max_size=6), _numbers, st.binary(max_size=6), st.booleans(), st.none())
_sets = st.one_of(
    st.frozensets(st.sampled_from(["1", "a", ""]), min_size=1, max_size=2),
    st.frozensets(st.sampled_from([Decimal(1), Decimal("1.00"), Decimal(2)]), min_size=1, max_size=2),
    st.frozensets(st.text(max_size=4), min_size=1, max_size=4),
    st.frozensets(_numbers, min_size=1, max_size=4),
    st.frozensets(st.binary(max_size=4), min_size=1, max_size=4),
)
values = st.recursive(
    st.one_of(_scalars, _sets),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=12,
)


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "BOOL"
    if isinstance(v, str):
        return "S"
    if isinstance(v, Decimal):
        return "N"
    if isinstance(v, bytes | Binary):
        return "B"
    if v is None:
        return "NULL"
    if isinstance(v, dict):
        return "M"
    if isinstance(v, list):
        return "L"
    kinds = {_kind(x) for x in v}
    return "S?" if not kinds else f"{kinds.pop()}S"


def _raw(v: Any) -> bytes:
    return bytes(v.value) if isinstance(v, Binary) else bytes(v)


def reference_equal(a: Any, b: Any) -> bool:
    """DynamoDB's equality, spelled out by type."""
    kind = _kind(a)
    if kind != _kind(b):
        return False
    if kind == "N":
        return bool(a == b)  # Decimal's == is exact (no context, no rounding), whatever the form
    if kind == "B":
        return _raw(a) == _raw(b)
    if kind == "M":
        return a.keys() == b.keys() and all(reference_equal(a[k], b[k]) for k in a)
    if kind == "L":
        return len(a) == len(b) and all(reference_equal(x, y) for x, y in zip(a, b, strict=True))
    if kind.endswith("S") and kind != "S":
        if len(a) != len(b):
            return False
        return all(any(reference_equal(x, y) for y in b) for x in a)
    return bool(a == b) if kind != "BOOL" else a is b


def rewrite(v: Any, data: st.DataObject) -> Any:
    """The same DynamoDB value in another Python form."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, Decimal):
        sign, digits, exponent = v.as_tuple()
        zeros = data.draw(st.integers(0, 3))  # 1.5 -> 1.500: another form of one number
        return Decimal((sign, (*digits, *(0,) * zeros), exponent - zeros))
    if isinstance(v, bytes):
        return Binary(v) if data.draw(st.booleans()) else v
    if isinstance(v, dict):
        keys = data.draw(st.permutations(list(v)))
        return {k: rewrite(v[k], data) for k in keys}
    if isinstance(v, list):
        return [rewrite(x, data) for x in v]
    return frozenset(rewrite(x, data) for x in data.draw(st.permutations(list(v))))


@settings(max_examples=400, deadline=None)
@given(values, values)
def test_canonical_forms_are_equal_exactly_when_values_are(a, b):
    assert (canonical(a) == canonical(b)) == reference_equal(a, b)


@settings(max_examples=300, deadline=None)
@given(values, st.data())
def test_a_value_rewritten_in_another_python_form_keeps_its_canonical_form(v, data):
    other = rewrite(v, data)
    assert reference_equal(v, other)
    assert equal(v, other) and digest({"a": v}) == digest({"a": other})


@settings(max_examples=300, deadline=None)
@given(st.integers(10**37, 10**38 - 1), st.integers(0, 37), st.integers(-40, 0))
def test_every_one_of_38_digits_counts(digits, position, exponent):
    a = Decimal(f"{digits}E{exponent}")  # not scaleb(): it rounds to the context's 28 digits
    text = str(digits)
    bumped = text[:position] + str((int(text[position]) + 1) % 10) + text[position + 1 :]
    b = Decimal(f"{bumped}E{exponent}")
    assert not equal(a, b) and digest({"n": a}) != digest({"n": b})


def test_near_misses_python_calls_equal():
    assert not equal(True, Decimal(1)) and not equal(False, Decimal(0))
    assert not equal(b"a", "a") and not equal({"a"}, ["a"]) and not equal(frozenset({Decimal(1)}), frozenset({"1"}))
    assert equal(Decimal("-0"), Decimal("0.000")) and equal(Decimal("1.50"), Decimal("1.5"))
    assert equal(Binary(b"x"), b"x") and not equal("", None)
