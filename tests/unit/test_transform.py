"""The contract transform by example: one users item, one orders item, and the error messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cutover.transform_errors import InvalidIndexKeyError, ReservedAttributeError
from migrations.seed.errors import InvalidEmailError, InvalidTimestampError
from migrations.seed.transform import transform, v3_keys


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
    # the value as a person reads it (issue 13: never a Python repr like "Decimal Decimal('5')")
    with pytest.raises(InvalidEmailError, match=r"users item 'u9': email must be a string, got number 5$"):
        transform("users", {"userId": "u9", "email": Decimal(5)})
    with pytest.raises(InvalidTimestampError, match=r"orders item 'o9': createdAt cannot be parsed"):
        transform("orders", {"orderId": "o9", "userId": "u", "createdAt": "next tuesday"})
    with pytest.raises(ReservedAttributeError, match=r"_version.*rename them at the source"):
        transform("users", {"userId": "u", "email": "e@x", "_version": "1"})


def test_v3_keys_of_a_bad_image_is_empty():
    assert v3_keys("orders", {"orderId": "o1"}) == []


@pytest.mark.parametrize("created", [Decimal(-1_700_000_000_000), -1_700_000_000_000, -1e12])
def test_negative_epoch_below_the_millis_threshold_is_seconds_and_out_of_range(created):
    # Given an order whose createdAt is a large negative epoch number (contract: every number below
    # 100000000000, negative included, is seconds; -1.7e12 s is ~54,000 years before 1970)
    item = {"orderId": "o1", "userId": "u1", "createdAt": created}
    # When it is transformed, Then it is bad input (out of range), not milliseconds (1916)
    with pytest.raises(InvalidTimestampError, match="out of range"):
        transform("orders", item)


def test_small_negative_epoch_is_seconds():
    # Given createdAt = -86400 (one day before the epoch, in seconds)
    item = {"orderId": "o1", "userId": "u1", "createdAt": Decimal(-86400)}
    # When transformed, Then it is 1969-12-31, read as seconds
    assert transform("orders", item)[0]["timestamp"] == "1969-12-31T00:00:00.000Z"


@pytest.mark.parametrize("email", ["", Decimal(42), True, ["a@b"]])
def test_order_whose_copied_email_cannot_be_a_gsi_key_is_rejected_up_front(email):
    # Given an order carrying an `email` that EmailLookupIndex cannot key on (empty or not a string)
    item = {"orderId": "o1", "userId": "u1", "email": email}
    # When transformed, Then it is bad input with its own reason, naming the attribute and the index
    with pytest.raises(InvalidIndexKeyError) as info:
        transform("orders", item)
    assert info.value.reason == "invalid_index_key"
    assert "email" in str(info.value) and "EmailLookupIndex" in str(info.value)


def test_order_with_a_string_email_is_still_copied():
    # Given an order with a non-empty string email, Then it is copied unchanged (it is a GSI key in v3)
    assert transform("orders", {"orderId": "o1", "userId": "u1", "email": "a@b"})[0]["email"] == "a@b"
