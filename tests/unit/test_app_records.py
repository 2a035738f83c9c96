"""The common response shape and the shadow comparison (pure)."""

from __future__ import annotations

from decimal import Decimal

from app_handlers.records import MISSING_IN_V3, differences, present_legacy, present_v3, to_json
from replicator.contract.transform import transform
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


def test_json_values():
    assert to_json({"n": Decimal("2"), "f": Decimal("2.5"), "s": {"b", "a"}, "l": [Decimal(1)]}) == {
        "n": 2,
        "f": 2.5,
        "s": ["a", "b"],
        "l": [1],
    }
