"""The contract transform by example: one users item, one orders item, and the error messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from replicator.contract.errors import InvalidEmailError, InvalidTimestampError, ReservedAttributeError
from replicator.contract.transform import transform, v3_keys


def test_users_example_from_the_contract():
    item = {"userId": "u1", "email": "  Ann@Example.COM\t", "createdAt": Decimal(1_700_000_000), "plan": "pro"}
    assert transform("users", item) == [
        {
            "userId": "u1",
            "recordType": "PROFILE",
            "entityType": "USER",
            "email": "ann@example.com",
            "timestamp": "2023-11-14T22:13:20.000Z",
            "plan": "pro",
        }
    ]


def test_orders_example_without_created_at_has_no_timestamp():
    item = {"orderId": "o1", "userId": "u1", "total": Decimal("3.10")}
    assert transform("orders", item) == [
        {
            "userId": "u1",
            "recordType": "ORDER#o1",
            "entityType": "ORDER",
            "orderId": "o1",
            "total": Decimal("3.10"),
        }
    ]


def test_errors_name_the_item_and_reason():
    with pytest.raises(InvalidEmailError, match=r"users item 'u9': email must be a string, got Decimal"):
        transform("users", {"userId": "u9", "email": Decimal(5)})
    with pytest.raises(InvalidTimestampError, match=r"orders item 'o9': createdAt cannot be parsed"):
        transform("orders", {"orderId": "o9", "userId": "u", "createdAt": "next tuesday"})
    with pytest.raises(ReservedAttributeError, match=r"_version.*rename them at the source"):
        transform("users", {"userId": "u", "email": "e@x", "_version": "1"})


def test_v3_keys_of_a_bad_image_is_empty():
    assert v3_keys("orders", {"orderId": "o1"}) == []
