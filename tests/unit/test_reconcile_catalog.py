"""Reconcile and repair of the catalog migration: a fan-out, a composite source key, a key that moves.

Every kind of difference is planted on a backfilled catalog, then judged by both methods (the
merge and the page check must agree exactly) and repaired item by item:
- a product's listing item lost, another's details item stale (one target item of a fan-out);
- a product whose category changed at the source (stream record lost): its new listing is
  missing, its details differ, and the listing left under the old category is `extra`
  (source_moved), tombstoned by the repair;
- a product deleted at the source: both of its target items are `extra` (source_deleted);
- a review published at the source (its key moves): the new key missing, the old one extra;
- a target item whose `_source` names a deleted item, and one with no `_source` at all
  (`unknown_record_type`: the target -> source direction reads the bookkeeping, never a key prefix);
- a bad review no one quarantined (composite key), and a quarantined one fixed since.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from moto import mock_aws

from backfill.runner import run_backfill
from cutover.clients import Clients
from cutover.codec import to_ddb
from cutover.settings import Settings
from migrations.catalog import MIGRATION as CATALOG
from reconciler.run import run_reconcile
from replicator.quarantine import QuarantineStore
from tests.unit.test_backfill_catalog import CATALOG_SPEC, live, open_world, product, put, review, target_items


@pytest.fixture
def catalog() -> Iterator[tuple[Settings, Clients]]:
    with mock_aws():
        yield open_world(CATALOG_SPEC)


def _plant(settings: Settings, clients: Clients) -> None:
    names = settings.names
    products, reviews, v3 = names.source_table("products"), names.source_table("reviews"), names.v3_table
    for i in range(8):
        put(clients, products, product(f"p{i}", category=("books", "garden")[i % 2]))
    put(clients, reviews, review("p1", "r1"))
    put(clients, reviews, review("p1", "r2", "PUBLISHED", reviewerEmail="b@x.com"))
    put(clients, reviews, review("p2", "r3", "DRAFT"))  # bad: quarantined by the backfill
    run_backfill(settings, clients, segments=2, workers=2, require_sync=False)
    ddb = clients.dynamodb
    # one target item of a fan-out: p1's listing lost, p2's details stale
    ddb.delete_item(TableName=v3, Key=to_ddb({"pk": "CATEGORY#garden", "sk": "PRODUCT#p1"}))
    ddb.update_item(TableName=v3, Key=to_ddb({"pk": "PRODUCT#p2", "sk": "DETAILS"}),
                    UpdateExpression="SET price = :p", ExpressionAttributeValues={":p": {"N": "1"}})  # fmt: skip
    # p3 moved from garden to toys at the source, p4 deleted there (stream records lost)
    put(clients, products, product("p3", category="toys"))
    ddb.delete_item(TableName=products, Key=to_ddb({"sku": "p4"}))
    # r1 published at the source: its key moves from REVIEW#PENDING#r1 to REVIEW#PUBLISHED#r1
    put(clients, reviews, review("p1", "r1", "PUBLISHED"))
    # a target item whose source is gone, one that names no source, a bad review nobody quarantined,
    # and the quarantined bad review fixed at the source since
    put(clients, v3, {"pk": "PRODUCT#zz", "sk": "DETAILS", "name": "z", "_version": "1", "_source": "products#zz"})
    put(clients, v3, {"pk": "CATEGORY#books", "sk": "NOTE#1", "_version": "1"})
    put(clients, reviews, review("p5", "r5", rating=Decimal(9)))
    put(clients, reviews, review("p2", "r3", "HIDDEN"))


EXPECTED = {
    ("missing", "products", "p1", ("CATEGORY#garden", "PRODUCT#p1"), ""),
    ("different", "products", "p2", ("PRODUCT#p2", "DETAILS"), ""),
    ("missing", "products", "p3", ("CATEGORY#toys", "PRODUCT#p3"), ""),
    ("different", "products", "p3", ("PRODUCT#p3", "DETAILS"), ""),
    ("extra", "products", "p3", ("CATEGORY#garden", "PRODUCT#p3"), "source_moved"),
    ("extra", "products", "p4", ("PRODUCT#p4", "DETAILS"), "source_deleted"),
    ("extra", "products", "p4", ("CATEGORY#books", "PRODUCT#p4"), "source_deleted"),
    ("missing", "reviews", '{"productId":"p1","reviewId":"r1"}', ("PRODUCT#p1", "REVIEW#PUBLISHED#r1"), ""),
    ("extra", "reviews", '{"productId":"p1","reviewId":"r1"}', ("PRODUCT#p1", "REVIEW#PENDING#r1"), "source_moved"),
    ("extra", "products", "zz", ("PRODUCT#zz", "DETAILS"), "source_deleted"),
    ("extra", None, None, ("CATEGORY#books", "NOTE#1"), "unknown_record_type"),
    ("unquarantined_bad_item", "reviews", '{"productId":"p5","reviewId":"r5"}', None, "invalid_review"),
    # p2/r3 is still quarantined, but its fixed item is not in the target yet
    ("missing", "reviews", '{"productId":"p2","reviewId":"r3"}', ("PRODUCT#p2", "REVIEW#HIDDEN#r3"), ""),
}


def _found(report) -> set[tuple]:
    """(kind, source, source key, target key, reason) of each difference shown; the reason of an extra
    or unquarantined item is its detail's first word (missing/different name the version seen)."""
    return {
        (
            d.kind,
            d.source,
            d.source_key,
            d.v3_key,
            d.detail.split(":")[0] if d.kind in ("extra", "unquarantined_bad_item") else "",
        )
        for d in report.shown
    }


@pytest.mark.parametrize("method", ["merge", "pages"])
def test_every_kind_of_difference_of_a_fan_out_is_found_and_repaired(catalog, tmp_path, monkeypatch, method):
    settings, clients = catalog
    names = settings.names
    _plant(settings, clients)
    monkeypatch.setattr("reconciler.spill.RUN_RECORDS", 3)  # the merge really spills and merges runs
    # When reconcile runs, Then each difference is found once, per target item, by either method
    found = run_reconcile(settings, clients, segments=2, workers=2, method=method, record=False)
    assert _found(found) == EXPECTED, sorted(map(repr, _found(found) ^ EXPECTED))
    assert (found.counts["missing"], found.counts["different"], found.counts["extra"]) == (4, 2, 6)
    assert found.counts["unquarantined"] == 1 and found.counts["compared"] == 7 + 4
    assert found.counts["v3_checked"] == 8 * 2 - 1 + 2 + 2  # products' and reviews' live items, zz, NOTE#1
    # And the report file names target keys by the target's attributes
    d = next(d for d in found.shown if d.kind == "extra" and d.source == "reviews")
    assert d.to_dict()["v3_key"] == {"pk": "PRODUCT#p1", "sk": "REVIEW#PENDING#r1"}
    # When it repairs, Then every difference is repaired and none remains
    repaired = run_reconcile(settings, clients, segments=2, workers=2, method=method, repair=True, record=False)
    assert repaired.counts["repaired"] == len(EXPECTED) and repaired.counts["remaining"] == 0, repaired.counts
    # And the target is exactly the transform of the sources: moved and deleted items tombstoned
    items = target_items(settings, clients)
    gone = [("CATEGORY#garden", "PRODUCT#p3"), ("PRODUCT#p4", "DETAILS"), ("CATEGORY#books", "PRODUCT#p4"),
            ("PRODUCT#p1", "REVIEW#PENDING#r1"), ("PRODUCT#zz", "DETAILS"), ("CATEGORY#books", "NOTE#1")]  # fmt: skip
    for key in gone:
        assert items[key]["_deleted"] is True, key
    assert set(items[("CATEGORY#garden", "PRODUCT#p3")]) == {"pk", "sk", "_deleted", "_version", "_source"}
    assert live(items)[("CATEGORY#toys", "PRODUCT#p3")] == CATALOG.transform("products", product("p3", "toys"))[1]
    assert live(items)[("PRODUCT#p1", "REVIEW#PUBLISHED#r1")]["gsi1pk"] == "PRODUCT#p1"
    assert items[("PRODUCT#p1", "REVIEW#PUBLISHED#r1")]["_source"] == 'reviews#{"productId":"p1","reviewId":"r1"}'
    # And the bad review is quarantined under its composite key, the fixed one's entry resolved
    store = QuarantineStore(clients.dynamodb, names.quarantine_table, names.migration)
    assert store.get("reviews", '{"productId":"p5","reviewId":"r5"}').status == "open"
    assert store.get("reviews", '{"productId":"p2","reviewId":"r3"}').status == "resolved"
    # And the next run of either method is clean
    for again in ("merge", "pages"):
        report = run_reconcile(settings, clients, segments=2, workers=2, method=again, record=False)
        assert report.clean, (again, report.counts, [d.to_dict() for d in report.shown])


def test_both_methods_count_exactly_alike(catalog):
    settings, clients = catalog
    _plant(settings, clients)
    merge = run_reconcile(settings, clients, segments=3, workers=2, method="merge", record=False)
    pages = run_reconcile(settings, clients, segments=3, workers=2, method="pages", record=False)
    assert merge.counts == pages.counts
    assert _found(merge) == _found(pages) == EXPECTED


def test_a_sampled_run_checks_every_target_item_of_the_source_items_it_samples(catalog):
    # Given a clean catalog of 40 products
    settings, clients = catalog
    names = settings.names
    for i in range(40):
        put(clients, names.source_table("products"), product(f"p{i:02d}"))
    run_backfill(settings, clients, segments=1, require_sync=False)
    # When sampled runs look at a fraction of the source items
    report = run_reconcile(settings, clients, segments=1, workers=1, sample=0.5, record=False)
    # Then both directions look at the same products: each sampled product's two target items
    assert 0 < report.counts["compared"] < 40
    assert report.counts["v3_checked"] == 2 * report.counts["compared"]


# --- numeric and binary keys (tests/unit/check_migrations.py's third shape) ---------------------------


@pytest.fixture
def telemetry() -> Iterator[tuple[Settings, Clients]]:
    with mock_aws():
        yield open_world("tests.unit.check_migrations:TELEMETRY")


def test_numeric_and_binary_keys_are_read_judged_and_repaired_by_both_methods(telemetry):
    # Given readings keyed by (number, binary) into a target keyed by (number, binary), backfilled
    settings, clients = telemetry
    names, m = settings.names, settings.names.migration
    table, v3 = names.source_table("readings"), names.v3_table
    readings = [{"deviceId": Decimal(d), "readingId": bytes([r, 0xFF]), "value": Decimal("1.50")}
                for d in (-7, 0, 12) for r in (0, 1)]  # fmt: skip
    for item in readings:
        put(clients, table, item)
    run_backfill(settings, clients, segments=2, require_sync=False)
    ddb = clients.dynamodb
    ddb.delete_item(TableName=v3, Key=to_ddb({"device": Decimal(-7), "reading": bytes([0, 0xFF])}))  # missing
    ddb.update_item(TableName=v3, Key=to_ddb({"device": Decimal(0), "reading": bytes([1, 0xFF])}),
                    UpdateExpression="SET #v = :v", ExpressionAttributeNames={"#v": "value"},
                    ExpressionAttributeValues={":v": {"N": "2"}})  # fmt: skip  # different
    ddb.delete_item(TableName=table, Key=to_ddb({"deviceId": Decimal(12), "readingId": bytes([0, 0xFF])}))  # extra
    source = m.source_key_text("readings", readings[1])  # (-7, 01ff): maps to another key than this one
    put(clients, v3, {"device": Decimal(99), "reading": b"\x00", "day": "D1", "_version": "1",
                      "_source": f"readings#{source}"})  # fmt: skip
    # When both methods run, Then they agree, naming keys by their typed values
    merge = run_reconcile(settings, clients, segments=2, workers=2, method="merge", record=False)
    pages = run_reconcile(settings, clients, segments=2, workers=2, method="pages", record=False)
    assert merge.counts == pages.counts
    assert (merge.counts["missing"], merge.counts["different"], merge.counts["extra"]) == (1, 1, 2)
    assert _found(merge) == _found(pages)
    moved = next(d for d in merge.shown if d.detail == "source_moved")
    assert moved.source_key == source == '{"deviceId":-7,"readingId":{"B":"Af8="}}'
    assert moved.to_dict()["v3_key"] == {"device": Decimal(99), "reading": b"\x00"}
    # When the merge repairs, Then the next run of either method is clean
    repaired = run_reconcile(settings, clients, segments=2, workers=2, method="merge", repair=True, record=False)
    assert repaired.counts["repaired"] == 4 and repaired.counts["remaining"] == 0, repaired.counts
    for method in ("merge", "pages"):
        assert run_reconcile(settings, clients, segments=2, workers=2, method=method, record=False).clean
