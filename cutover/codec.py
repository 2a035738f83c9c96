"""DynamoDB JSON <-> plain Python values, exactly as boto3's TypeSerializer/TypeDeserializer.

This is the replicator's and backfill's hot path (every item crosses it twice), so the common
types are dispatched through lookup tables keyed on the exact type or tag; anything else (binary,
subclasses, tuples, frozensets) is handed to boto3's own (de)serialiser, so results never differ
from boto3's — `tests/properties/test_ddb_json_properties.py` checks that equivalence.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from decimal import Context, Decimal, Rounded
from typing import Any, cast

from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary, TypeDeserializer, TypeSerializer

_DESERIALIZER = TypeDeserializer()
_SERIALIZER = TypeSerializer()
_create_decimal = DYNAMODB_CONTEXT.create_decimal


def _de(value: Mapping[str, Any]) -> Any:
    if len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "S":  # the most common type, without a call
            return raw
        reader = _READERS.get(tag)
        if reader is not None:
            return reader(raw)
    return _DESERIALIZER.deserialize(cast(Any, value))  # stubs type the value as a TypedDict


def _binary(raw: Any) -> Binary:
    """`B` as boto3 returns it (bytes) or as Lambda delivers it in event JSON (a base64 string).

    Lambda's stream events are JSON, so binaries arrive base64-encoded
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html: "B ...
    Binary data, base64-encoded in JSON"); the item is the same either way.
    """
    return Binary(base64.b64decode(raw, validate=True) if isinstance(raw, str) else raw)


_READERS: dict[str, Callable[[Any], Any]] = {
    "S": lambda raw: raw,
    "N": _create_decimal,
    "BOOL": lambda raw: raw,
    "NULL": lambda raw: None,
    "M": lambda raw: {k: _de(v) for k, v in raw.items()},
    "L": lambda raw: [_de(v) for v in raw],
    "SS": set,
    "NS": lambda raw: {_create_decimal(v) for v in raw},
    "B": _binary,
    "BS": lambda raw: {_binary(v) for v in raw},
}


def _number(value: Decimal | int) -> dict[str, str]:
    text = str(_create_decimal(value))
    if text in ("Infinity", "NaN"):
        raise TypeError("Infinity and NaN not supported")
    return {"N": text}


def _ser(value: Any) -> dict[str, Any]:
    kind = type(value)
    if kind is str:  # the most common type, without a call
        return {"S": value}
    writer = _WRITERS.get(kind)
    return writer(value) if writer is not None else cast(dict[str, Any], _SERIALIZER.serialize(value))


_WRITERS: dict[type, Callable[[Any], dict[str, Any]]] = {
    str: lambda v: {"S": v},
    bool: lambda v: {"BOOL": v},
    Decimal: _number,
    int: _number,
    type(None): lambda v: {"NULL": True},
    dict: lambda v: {"M": {k: _ser(x) for k, x in v.items()}},
    list: lambda v: {"L": [_ser(x) for x in v]},
}


def from_ddb(image: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB image as plain values, numbers as DynamoDB returns them included.

    DynamoDB trims a number's leading and trailing zeros and returns it spelled out: 1E+100 comes
    back as a 1 and 100 zeros (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
    HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number: "up to 38 digits of
    precision ... Leading and trailing zeroes are trimmed"). boto3's 38-digit context counts those
    zeros and raises decimal.Rounded (boto/boto3#2500), which would stop a backfill or a stream
    batch on one valid item. Such an image, and only it, is read again with trailing zeros folded
    into the exponent: the same number, still checked against the 38 digits. The common path is
    boto3's, untouched.
    """
    try:
        return {k: _de(v) for k, v in image.items()}
    except Rounded:
        return {k: _de_spelled_out(v) for k, v in image.items()}


_WIDE = Context(prec=400)  # every digit of any number DynamoDB can return (magnitudes 1E-130 .. 1E+126)


def _spelled_out(raw: str) -> Decimal:
    """A number as boto3 reads it, or, if only its trailing zeros exceed 38 digits, the same number
    with them folded into the exponent (more than 38 significant digits still raise, as in boto3)."""
    try:
        return _create_decimal(raw)
    except Rounded:
        return _create_decimal(Decimal(raw).normalize(_WIDE))


def _de_spelled_out(value: Mapping[str, Any]) -> Any:
    """`_de`, for the images whose numbers DynamoDB spelled out past 38 characters."""
    if len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "N":
            return _spelled_out(raw)
        if tag == "NS":
            return {_spelled_out(v) for v in raw}
        if tag == "M":
            return {k: _de_spelled_out(v) for k, v in raw.items()}
        if tag == "L":
            return [_de_spelled_out(v) for v in raw]
    return _de(value)


def to_ddb(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _ser(v) for k, v in item.items()}


def json_default(value: Any) -> Any:
    """Plain values that `json` cannot write, as every JSON document cutover writes spells them
    (reports, stored documents, CLI output): numbers stay numbers, sets become sorted lists,
    binaries (bytes or boto3's `Binary`) base64 text; anything else its `str`. A number that a
    JSON float would round (DynamoDB keeps 38 digits) is written as its exact decimal text, so a
    report never shows two different values as one."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        rounded = float(value)
        return rounded if Decimal(repr(rounded)) == value else str(value)
    if isinstance(value, (set, frozenset)):
        if value and all(isinstance(v, (Binary, bytes, bytearray)) for v in value):
            return [json_default(v) for v in sorted(value, key=_raw_bytes)]
        return [json_default(v) if isinstance(v, Decimal) else v for v in sorted(value)]  # sort the exact values
    if isinstance(value, (Binary, bytes, bytearray)):
        return base64.b64encode(_raw_bytes(value)).decode()
    return str(value)


def _raw_bytes(value: Binary | bytes | bytearray) -> bytes:
    if isinstance(value, Binary):
        return bytes(value.value)  # type: ignore[attr-defined]  # boto3-stubs omit Binary.value
    return bytes(value)
