"""Properties of the contract transform (migrations.seed.transform) over generated legacy items."""

from __future__ import annotations

import copy
import string
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from transform_strategies import created_at, emails, orders, sourced_items, users

from cutover.transform_errors import MissingKeyError, ReservedAttributeError, TransformError
from migrations.seed.errors import InvalidEmailError, InvalidTimestampError, InvalidUserIdError
from migrations.seed.transform import transform, v3_keys

# Shared 2-core machine: judge correctness, not speed.
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@relaxed
@given(sourced_items())
def test_transform_matches_contract_and_is_deterministic(case):
    # Given a valid legacy item and its expected v3 item (built independently)
    source, item, expected = case
    before = copy.deepcopy(item)
    # When transformed twice
    first, second = transform(source, item), transform(source, item)
    # Then exactly the expected item, the same both times, and the input untouched
    assert first == second == [expected]
    assert item == before


@relaxed
@given(sourced_items())
def test_output_keys_are_well_formed(case):
    source, item, _ = case
    (out,) = transform(source, item)
    assert isinstance(out["userId"], str) and out["userId"]
    if source == "users":
        assert (out["recordType"], out["entityType"], out["userId"]) == ("PROFILE", "USER", item["userId"])
    else:
        assert out["recordType"] == "ORDER#" + item["orderId"] and out["entityType"] == "ORDER"
    assert not any(k.startswith("_") for k in out) and "createdAt" not in out
    assert v3_keys(source, item) == [(out["userId"], out["recordType"])]


@relaxed
@given(st.lists(sourced_items(), max_size=12))
def test_distinct_legacy_items_never_share_a_v3_key(cases):
    # Given legacy items that are distinct source items (unique key per table)
    by_source: dict[tuple[str, str], Any] = {}
    for source, item, _ in cases:
        by_source[(source, item["userId"] if source == "users" else item["orderId"])] = item
    # When every one is transformed
    keys = [k for (source, _), item in by_source.items() for k in v3_keys(source, item)]
    # Then no two share a v3 key
    assert len(keys) == len(set(keys)) == len(by_source)


@relaxed
@given(emails())
def test_email_is_stripped_and_lower_cased(pair):
    raw, expected = pair
    (out,) = transform("users", {"userId": "u", "email": raw})
    assert out["email"] == expected


@relaxed
@given(created_at(), st.sampled_from(["users", "orders"]))
def test_created_at_normalises_to_utc_millis(pair, source):
    value, expected = pair
    item = (
        {"userId": "u", "email": "e@x.com", "createdAt": value}
        if source == "users"
        else {"orderId": "o", "userId": "u", "createdAt": value}
    )
    (out,) = transform(source, item)
    assert out["timestamp"] == expected and "createdAt" not in out


@pytest.mark.parametrize(
    "value, expected",
    [
        (Decimal(100_000_000_000), "1973-03-03T09:46:40.000Z"),  # the threshold itself is milliseconds
        (Decimal(99_999_999_999), "5138-11-16T09:46:39.000Z"),  # one below is seconds
        (Decimal("1700000000.5"), "2023-11-14T22:13:20.500Z"),
        (Decimal(1_700_000_000_123), "2023-11-14T22:13:20.123Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        ("2024-02-29T23:30:00-01:00", "2024-03-01T00:30:00.000Z"),
        ("2024-02-29T23:30:00", "2024-02-29T23:30:00.000Z"),
        ("2024-02-29", "2024-02-29T00:00:00.000Z"),
    ],
)
def test_timestamp_examples(value, expected):
    (out,) = transform("users", {"userId": "u", "email": "e@x.com", "createdAt": value})
    assert out["timestamp"] == expected


not_iso = st.text(max_size=20).filter(lambda s: not s.strip()[:1].isdigit())
bad_created = st.one_of(
    not_iso,
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.sampled_from(["2024-13-01", "2024-02-30T00:00:00", "2024-01-01T25:00:00", "1700000000", "0000-01-01"]),
    st.sampled_from(
        [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("1e30"), Decimal(253402300800000)]
    ),
)


def _assert_raises_exactly(error_type: type[TransformError], source: str, item: dict[str, Any]) -> None:
    before = copy.deepcopy(item)
    try:
        result = transform(source, item)
    except TransformError as exc:
        assert type(exc) is error_type, f"{type(exc).__name__} raised, expected {error_type.__name__}"
        assert exc.source == source and exc.reason == error_type.reason
    else:  # pragma: no cover - the failure message shows what leaked out
        pytest.fail(f"expected {error_type.__name__}, got a result {result!r}")
    assert item == before


@relaxed
@given(users(with_created=False), bad_created)
def test_unparseable_created_at_raises_invalid_timestamp(pair, value):
    item, _ = pair
    _assert_raises_exactly(InvalidTimestampError, "users", {**item, "createdAt": value})


@relaxed
@given(
    users(with_created=False),
    st.one_of(st.none(), st.integers(), st.booleans(), st.text(alphabet=string.whitespace, max_size=4)),
)
def test_bad_email_raises_invalid_email(pair, value):
    item, _ = pair
    bad = {**item, "email": value} if value is not None else {k: v for k, v in item.items() if k != "email"}
    _assert_raises_exactly(InvalidEmailError, "users", bad)


@relaxed
@given(orders(), st.one_of(st.none(), st.just(""), st.integers().map(Decimal), st.lists(st.text(), max_size=2)))
def test_bad_order_user_id_raises_invalid_user_id(pair, value):
    item, _ = pair
    bad = {**item, "userId": value} if value is not None else {k: v for k, v in item.items() if k != "userId"}
    _assert_raises_exactly(InvalidUserIdError, "orders", bad)


@relaxed
@given(sourced_items(), st.one_of(st.none(), st.just(""), st.integers().map(Decimal)))
def test_missing_source_key_raises_missing_key(case, value):
    source, item, _ = case
    name = "userId" if source == "users" else "orderId"
    bad = {**item, name: value} if value is not None else {k: v for k, v in item.items() if k != name}
    _assert_raises_exactly(MissingKeyError, source, bad)


@relaxed
@given(
    sourced_items(),
    st.one_of(
        st.sampled_from(["recordType", "entityType", "timestamp"]),
        st.text(min_size=0, max_size=6).map(lambda s: "_" + s),
    ),
)
def test_reserved_attribute_raises_reserved_attribute(case, name):
    source, item, _ = case
    assume(name not in item)
    _assert_raises_exactly(ReservedAttributeError, source, {**item, name: "x"})
