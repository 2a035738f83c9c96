"""`cutover demo --migration M` seeds items generated from the definition: deterministic for a
seed, distinct keys of the declared types, about one in twenty bad, and writable to the legacy
tables (their own index keys of the declared types)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary

from cutover.migration_loader import load_migration
from cutover_cli.demo import is_seed
from cutover_cli.demo.generated import BAD_EVERY, GROUP, demo_key, generate, good_fix, is_good

CATALOG = load_migration("migrations.catalog:MIGRATION")


def test_the_same_seed_generates_the_same_items_and_another_seed_others():
    first, again, other = (generate(CATALOG, 40, seed) for seed in (7, 7, 8))
    assert first.items == again.items and first.bad == again.bad
    assert first.items != other.items


def test_keys_are_distinct_typed_and_a_composite_key_groups_items_under_one_hash_key():
    data = generate(CATALOG, 40, 7)
    products, reviews = data.items["products"], data.items["reviews"]
    assert len(products) == len(reviews) == 40
    assert all(isinstance(item["sku"], str) and item["sku"].startswith("products-") for item in products.values())
    by_product: dict[str, int] = {}
    for item in reviews.values():
        by_product[item["productId"]] = by_product.get(item["productId"], 0) + 1
    assert set(by_product.values()) == {GROUP}


def test_about_one_item_in_twenty_is_bad_and_the_rest_good():
    data = generate(CATALOG, 60, 7)
    for role, items in data.items.items():
        bad = [item for item in items.values() if not is_good(CATALOG, role, item)]
        assert len(bad) == data.bad[role] == 60 // BAD_EVERY, role


def test_generated_items_satisfy_the_legacy_tables_own_index_keys():
    # products has category-index on category (S): an item with a bad category could not be written there
    data = generate(CATALOG, 80, 3)
    for item in data.items["products"].values():
        assert "category" not in item or (isinstance(item["category"], str) and item["category"])


def test_a_quarantined_item_can_be_fixed_with_a_good_attribute_set():
    data = generate(CATALOG, 20, 7)
    key = {"productId": "products-00001", "reviewId": "00004"}
    fixed = good_fix(CATALOG, "reviews", data, key)
    assert fixed is not None and is_good(CATALOG, "reviews", fixed) and fixed.items() >= key.items()


def test_keys_of_numeric_and_binary_types_without_strategies():
    telemetry = pytest.importorskip("check_migrations").TELEMETRY
    source = telemetry.source("readings")
    assert [k.type for k in source.keys] == ["N", "B"]
    key = demo_key(source, 9)
    assert key == {"deviceId": Decimal(9 // GROUP), "readingId": Binary(b"00009")}
    data = generate(telemetry, 30, 7)  # the check's generic strategies: the definition registers none
    assert len(data.items["readings"]) == 30


def test_the_seed_demo_is_chosen_by_the_definition_itself():
    assert is_seed(load_migration("migrations.seed:MIGRATION")) and not is_seed(CATALOG)
