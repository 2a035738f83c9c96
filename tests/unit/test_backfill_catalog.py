"""Backfill of the catalog migration (migrations/catalog.py), a shape unlike the seed's.

A product fans out into two target items (details and its category listing); a review has a
composite source key (productId, reviewId) and a transform that needs the pinned secret
`reviewer-key` (read here from SSM at its version, as on AWS). Every guarantee of the seed's
backfill must hold item by item: each target item filled conditionally on its absence, a crash
re-does one page and counts nothing twice, bad items quarantined under their composite key.
A third, test-only definition covers "not migrated" (a transform that returns no item).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from backfill.runner import run_backfill
from cutover.clients import Clients
from cutover.codec import from_ddb, to_ddb
from cutover.migration import Key, Migration, Source, Target
from cutover.settings import Settings
from migrations.catalog import MIGRATION as CATALOG
from reconciler.run import run_reconcile
from replicator.quarantine import QuarantineStore

CATALOG_SPEC = "migrations.catalog:MIGRATION"
SECRET_VALUE = "unit-test-reviewer-key"


def open_world(migration: str, service: str = "unit") -> tuple[Settings, Clients]:
    """Tables of `migration` in in-process moto, its secrets in SSM at their pinned versions (version 1)."""
    settings = Settings(service=service, region="us-east-1", migration=migration)
    clients = Clients(settings)
    names = settings.names
    for secret in names.migration.secrets:
        clients.ssm.put_parameter(
            Name=secret.parameter_name(names.service, names.stage), Value=SECRET_VALUE, Type="SecureString"
        )
    for spec in names.all_specs():
        clients.dynamodb.create_table(**spec.create_table_kwargs())
    return settings, clients


@pytest.fixture
def catalog() -> Iterator[tuple[Settings, Clients]]:
    with mock_aws():
        yield open_world(CATALOG_SPEC)


def product(sku: str, category: str = "books", **more: Any) -> dict[str, Any]:
    return {"sku": sku, "name": f"Product {sku}", "price": Decimal("9.99"), "category": category, **more}


def review(product_id: str, review_id: str, status: str = "PENDING", **more: Any) -> dict[str, Any]:
    return {"productId": product_id, "reviewId": review_id, "status": status, "rating": Decimal(4), **more}


def put(clients: Clients, table: str, item: Mapping[str, Any]) -> None:
    clients.dynamodb.put_item(TableName=table, Item=to_ddb(dict(item)))


def target_items(settings: Settings, clients: Clients) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Every item of the target table by its target key (tombstones included)."""
    names = settings.names
    pages = clients.dynamodb.get_paginator("scan").paginate(TableName=names.v3_table)
    items = [from_ddb(raw) for page in pages for raw in page["Items"]]
    return {names.migration.target_key(i): i for i in items}


def live(items: Mapping[tuple[Any, ...], dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {k: {a: v for a, v in i.items() if not a.startswith("_")} for k, i in items.items() if not i.get("_deleted")}


def test_every_target_item_of_a_fan_out_is_filled_and_a_crash_resumes_at_its_page(catalog):
    # Given 30 products (60 target items) read 10 a page, one write at a time
    settings, clients = catalog
    names = settings.names
    for i in range(30):
        put(clients, names.source_table("products"), product(f"p{i:02d}", category=("books", "garden")[i % 2]))
    v3_puts = iter(range(1000))

    def fail_once(params, **_):
        table = json.loads(params["body"])["TableName"]  # the serialized request
        if table == names.v3_table and next(v3_puts) == 25:  # the 6th write of page 2
            return SimpleNamespace(status_code=400, headers={}), {
                "Error": {"Code": "AccessDeniedException", "Message": "injected"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        return None

    clients.dynamodb.meta.events.register("before-call.dynamodb.PutItem", fail_once)
    # When the run crashes on that write
    with pytest.raises(ClientError):
        run_backfill(settings, clients, segments=1, workers=1, write_threads=1, require_sync=False, page_size=10)
    # Then the rerun resumes at the crashed page: the 19 target items of page 2 that landed are already
    # filled, the failed one and page 3's twenty are written now (page 1 is not re-done)
    summary = run_backfill(settings, clients, segments=1, require_sync=False, page_size=10)
    t = summary.tables["products"]
    assert (t.scanned, t.written, t.already_filled, t.quarantined, t.not_migrated) == (30, 41, 19, 0, 0)
    assert set(summary.tables) == {"products", "reviews"} and summary.complete
    # And every product is its two target items, exactly as the transform says, carrying its source
    items = target_items(settings, clients)
    assert len(items) == 60
    for i in range(30):
        sku = f"p{i:02d}"
        for expected in CATALOG.transform("products", product(sku, category=("books", "garden")[i % 2])):
            got = items[CATALOG.target_key(expected)]
            assert {k: v for k, v in got.items() if not k.startswith("_")} == expected
            assert got["_source"] == f"products#{sku}" and got["_version"] == "0"
    assert run_reconcile(settings, clients, segments=1, workers=1, method="merge", record=False).clean
    assert run_reconcile(settings, clients, segments=1, workers=1, method="pages", record=False).clean


def test_reviews_are_keyed_by_their_composite_key_hashed_with_the_pinned_secret_and_bad_ones_quarantined(catalog):
    # Given reviews (a composite key), one of them bad, and the secret in SSM at its pinned version
    settings, clients = catalog
    names = settings.names
    table = names.source_table("reviews")
    put(clients, table, review("p1", "r1", "PUBLISHED", reviewerEmail=" Ann@Example.com "))
    put(clients, table, review("p1", "r2"))
    put(clients, table, review("p2", "r1", "DRAFT"))  # bad: not a status
    # When backfill runs
    summary = run_backfill(settings, clients, tables=("reviews",), segments=2, require_sync=False)
    # Then the good ones are in the target under their status, the e-mail only as its hash
    t = summary.tables["reviews"]
    assert (t.scanned, t.written, t.quarantined) == (3, 2, 1)
    items = live(target_items(settings, clients))
    published = items[("PRODUCT#p1", "REVIEW#PUBLISHED#r1")]
    assert "reviewerEmail" not in published and published["gsi1pk"] == "PRODUCT#p1"
    assert published["reviewerHash"] == hmac.new(SECRET_VALUE.encode(), b"ann@example.com", "sha256").hexdigest()
    assert ("PRODUCT#p1", "REVIEW#PENDING#r2") in items
    # And the bad one is quarantined under its composite key, as `quarantine redrive --key` takes it
    entry = QuarantineStore(clients.dynamodb, names.quarantine_table, names.migration).get(
        "reviews", '{"productId":"p2","reviewId":"r1"}'
    )
    assert entry is not None and entry.status == "open" and entry.reason == "invalid_review", entry
    assert from_ddb(entry.raw) == review("p2", "r1", "DRAFT")


def test_a_bad_item_fixed_before_its_entry_existed_is_resolved_by_its_composite_key(catalog, monkeypatch):
    # Given a bad review the scan saw, fixed at the source before backfill quarantined it
    settings, clients = catalog
    names = settings.names
    table = names.source_table("reviews")
    put(clients, table, review("p9", "r9", "DRAFT"))
    original = QuarantineStore.put

    def put_then_fix(self, entry):
        written = original(self, entry)
        put(clients, table, review("p9", "r9", "HIDDEN"))  # the fix lands right after the entry
        return written

    monkeypatch.setattr(QuarantineStore, "put", put_then_fix)
    run_backfill(settings, clients, tables=("reviews",), segments=1, require_sync=False)
    # Then the entry it opened is resolved (the fix's record may have been applied before it existed)
    entry = QuarantineStore(clients.dynamodb, names.quarantine_table, names.migration).get(
        "reviews", '{"productId":"p9","reviewId":"r9"}'
    )
    assert entry is not None and entry.status == "resolved"


# --- "not migrated": a transform that returns no item -----------------------------------------------


def _notes(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Archived notes are not migrated; the others keep their numeric id as the target's key."""
    if item.get("archived"):
        return []
    return [{"id": item["noteId"], "text": item.get("text", "")}]


NOTES = Migration(
    name="notes",
    target=Target(table="{service}-{stage}-notes-v2", hash_key=Key("id", "N")),
    sources=(Source(role="notes", table="{service}-{stage}-notes", hash_key=Key("noteId", "N"), transform=_notes),),
)


@pytest.fixture
def notes() -> Iterator[tuple[Settings, Clients]]:
    with mock_aws():
        yield open_world(f"{__name__}:NOTES")


def test_items_the_transform_does_not_migrate_are_counted_never_lost(notes):
    # Given 5 notes, 2 of them archived (the definition migrates them to nothing)
    settings, clients = notes
    names = settings.names
    for i in range(5):
        put(clients, names.source_table("notes"), {"noteId": Decimal(i), "text": f"n{i}", "archived": i % 2 == 1})
    # When backfill runs (twice: a rerun fills nothing)
    first = run_backfill(settings, clients, segments=2, require_sync=False)
    again = run_backfill(settings, clients, segments=2, require_sync=False)
    # Then the 2 are counted as not migrated, the 3 others written under their numeric key
    t = first.tables["notes"]
    assert (t.scanned, t.written, t.not_migrated, t.quarantined) == (5, 3, 2, 0)
    assert first.to_dict()["tables"]["notes"]["not_migrated"] == 2
    assert again.tables["notes"].written == 0 and again.tables["notes"].not_migrated == 2
    assert sorted(live(target_items(settings, clients))) == [(Decimal(0),), (Decimal(2),), (Decimal(4),)]
    # And reconcile counts them too, and is clean
    report = run_reconcile(settings, clients, segments=1, workers=1, record=False)
    assert report.clean and report.counts["not_migrated"] == 2 and report.counts["compared"] == 5


def test_a_composite_key_segment_out_of_time_mid_page_resumes_after_the_last_review_taken(catalog):
    # Given 60 reviews (hash + range key) in one Scan page and a clock that runs out inside it
    from backfill.segment import run_segment
    from cutover import transform_secrets

    settings, clients = catalog
    transform_secrets.bind_clients(settings.names.migration, clients)
    table = settings.names.source_table("reviews")
    for n in range(60):
        put(clients, table, review(f"p{n % 7}", f"r{n:02d}", "PUBLISHED"))
    calls = iter(range(10_000))

    def deadline() -> float:  # about 20 items' worth of time
        return 1.0 if next(calls) < 20 else 0.0

    # When the segment runs out of time, then runs again with time
    options = {"table": "reviews", "segment": 0, "segments": 1, "run_id": "r"}
    first = run_segment(settings, clients, deadline=deadline, **options)
    second = run_segment(settings, clients, **options)
    # Then the first stopped inside the page and the second resumed after its last review: each once
    assert not first.done and 10 < first.counts["written"] < 30
    assert second.done and second.counts["written"] == 60 and second.counts["already_filled"] == 0
    assert len(live(target_items(settings, clients))) == 60
