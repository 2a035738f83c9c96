"""The fast DynamoDB-JSON codec must agree with boto3's own TypeSerializer/TypeDeserializer."""

from decimal import Context, Decimal, Inexact

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.codec import from_ddb, to_ddb

numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**20), max_value=10**20),
)
scalars = st.one_of(
    st.text(max_size=20), numbers, st.booleans(), st.none(), st.binary(min_size=1, max_size=8).map(Binary)
)
sets = st.one_of(
    st.sets(st.text(min_size=1, max_size=8), min_size=1, max_size=4),
    st.sets(st.integers(-1000, 1000).map(Decimal), min_size=1, max_size=4),
)
values = st.recursive(
    st.one_of(scalars, sets),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
items = st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=8)


@settings(max_examples=300, deadline=None)
@given(items)
def test_serialise_and_deserialise_match_boto3(item):
    # Given any item boto3 can serialise, When both codecs run, Then the wire form and the round trip agree
    boto_wire = {k: TypeSerializer().serialize(v) for k, v in item.items()}
    assert to_ddb(item) == boto_wire
    assert from_ddb(boto_wire) == {k: TypeDeserializer().deserialize(v) for k, v in boto_wire.items()}


def test_unsupported_values_fail_like_boto3():
    with pytest.raises(TypeError):
        to_ddb({"x": float("nan")})
    with pytest.raises(TypeError):
        to_ddb({"x": Decimal("Infinity")})


@given(st.integers(1, 10**6), st.integers(0, 88))
def test_a_number_spelled_out_with_trailing_zeros_reads_as_the_same_number(digits, zeros):
    # DynamoDB returns numbers trimmed and spelled out (1E+100 as a 1 and 100 zeros); boto3's
    # reader raises decimal.Rounded past 38 characters (boto/boto3#2500). cutover reads the value.
    spelled = str(digits) + "0" * zeros
    got = from_ddb({"n": {"N": spelled}, "m": {"M": {"l": {"L": [{"N": spelled}]}}}, "s": {"NS": [spelled]}})
    assert got["n"] == Decimal(spelled) and got["m"]["l"][0] == Decimal(spelled) and got["s"] == {Decimal(spelled)}
    assert to_ddb(got)["n"]["N"] in (spelled, str(Decimal(spelled).normalize(Context(prec=400))))


def test_a_number_of_more_than_38_significant_digits_is_refused_like_boto3():
    with pytest.raises(Inexact):
        from_ddb({"n": {"N": "1" * 39 + "0" * 5}})
