"""The common response shape and the shadow comparison (pure)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary

from app_handlers.records import MISSING_IN_V3, differences, json_text, present_legacy, present_v3
from migrations.seed.transform import transform
from replicator.v3_writer import tombstone_item

USER = {"userId": "u1", "email": " A@B.COM", "createdAt": Decimal(1600000000), "plan": {"tier": "gold"}}
ORDER = {"orderId": "o1", "userId": "u1", "amount": Decimal("5.5"), "createdAt": "2020-01-01T00:00:00Z"}


def test_legacy_and_replicated_v3_present_identically():
    # Given a legacy item and its replicated v3 item with bookkeeping attributes
    v3 = {**transform("users", USER)[0], "_version": "7", "_source": "users#u1"}
    # Then both present the same record: no `_`, no structural attributes, timestamp shown as createdAt
    assert (
        present_legacy("users", USER)
        == present_v3(v3)
        == {"userId": "u1", "email": "a@b.com", "createdAt": "2020-09-13T12:26:40.000Z", "plan": {"tier": "gold"}}
    )
    assert differences(present_legacy("orders", ORDER), present_v3(transform("orders", ORDER)[0])) == []


def test_tombstones_are_absent():
    assert present_v3(tombstone_item(("u1", "PROFILE"), "9", "users#u1")) is None


def test_untransformable_legacy_items_are_served_as_stored():
    bad = {"userId": "u2", "email": 42}
    assert present_legacy("users", bad) == bad


def test_differences_name_the_attributes_and_orders():
    assert differences({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 0}) == ["b", "c"]
    assert differences({"a": 1}, None) == [MISSING_IN_V3]
    assert differences([{"orderId": "o1", "x": 1}, {"orderId": "o2"}], [{"orderId": "o1", "x": 2}]) == [
        "o1:x",
        f"o2:{MISSING_IN_V3}",
    ]
    assert differences(None, None) == [] and differences([], []) == []


def test_json_text_writes_every_dynamodb_type():
    value = {
        "n": Decimal("2"),
        "f": Decimal("2.5"),
        "big": Decimal("12345678901234567890.123456789012345678"),
        "e": Decimal("1E+125"),
        "s": {"b", "a", "C"},
        "ns": {Decimal("10"), Decimal("9.5"), Decimal("-1")},
        "bs": {Binary(b"\xff"), Binary(b"\x01")},
        "b": Binary(b"\x00\x01"),
        "l": [Decimal(1), None, True, {"z": False, "a": "\u00e9"}],
    }
    assert json_text(value) == (
        '{"b": "AAE=", "big": 12345678901234567890.123456789012345678, "bs": ["AQ==", "/w=="], "e": 1E+125, '
        '"f": 2.5, "l": [1, null, true, {"a": "\\u00e9", "z": false}], "n": 2, "ns": [-1, 9.5, 10], '
        '"s": ["C", "a", "b"]}'
    )
    assert json.loads(json_text(value), parse_float=Decimal)["big"] == value["big"]


def test_json_text_refuses_what_is_no_json_value():
    with pytest.raises(TypeError, match="object"):
        json_text({"x": object()})
    with pytest.raises(TypeError, match="NaN"):
        json_text(Decimal("NaN"))
