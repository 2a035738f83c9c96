"""The CLI end to end on a migration other than the seed (migrations/catalog.py) against the moto
server: init creates its tables, sync, backfill and reconcile run on its roles, quarantine shows
and re-drives composite keys as JSON, status and dlq are per source role. Nothing in cutover's
code names the catalog: everything comes from `--migration`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cutover.codec import from_ddb, to_ddb
from cutover.migration_loader import load_migration
from cutover.settings import Settings
from cutover_cli.app import main

pytestmark = pytest.mark.server
SPEC = "migrations.catalog:MIGRATION"
CATALOG = load_migration(SPEC)


@pytest.fixture
def catalog(moto_server) -> Settings:
    """A fresh service on the shared server, run with the catalog definition (nothing created yet)."""
    return Settings(
        service=f"c{uuid.uuid4().hex[:10]}",
        stage="dev",
        region="us-east-1",
        endpoint_url=moto_server.endpoint_url,
        migration=SPEC,
    )


def cli(settings: Settings, *args: str):
    return CliRunner().invoke(
        main,
        [*args, "--endpoint-url", settings.endpoint_url, "--service", settings.service, "--migration", SPEC],
        env={"CUTOVER_MIGRATION": None, "CUTOVER_LEGACY_TABLES": None},
    )


def ok(result, code: int = 0):
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if result.stdout.strip().startswith(("{", "[")) else result.stdout


def _put(clients, table: str, item: dict) -> None:
    clients.dynamodb.put_item(TableName=table, Item=to_ddb(item))


def _target(clients, names, pk: str, sk: str) -> dict | None:
    resp = clients.dynamodb.get_item(TableName=names.v3_table, Key=to_ddb({"pk": pk, "sk": sk}), ConsistentRead=True)
    return from_ddb(resp["Item"]) if "Item" in resp else None


def test_init_creates_the_definitions_tables_and_queues(catalog):
    # When `cutover init` runs with the catalog definition
    created = ok(cli(catalog, "init", "--json"))["created"]
    # Then each source role's table, the target, cutover's own tables and a queue per role exist
    names = catalog.names
    for name in (*names.source_tables().values(), names.v3_table, *(s.name for s in names.own_specs())):
        assert name in created
    assert {names.failure_queue("products"), names.failure_queue("reviews")} <= set(created)
    from cutover.clients import Clients

    ddb = Clients(catalog).dynamodb
    reviews = ddb.describe_table(TableName=names.source_table("reviews"))["Table"]
    assert [k["AttributeName"] for k in reviews["KeySchema"]] == ["productId", "reviewId"]
    assert reviews["StreamSpecification"]["StreamEnabled"] is True
    target = ddb.describe_table(TableName=names.v3_table)["Table"]
    (index,) = target["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "ByRating" and index["Projection"]["ProjectionType"] == "INCLUDE"
    assert {"AttributeName": "rating", "AttributeType": "N"} in target["AttributeDefinitions"]
    # And a second init creates nothing
    assert ok(cli(catalog, "init", "--json"))["created"] == []


def test_local_serves_the_definitions_tables_and_says_how_to_select_it():
    # Given `cutover local` started with the catalog definition, as a real process
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("cutover")), "local", "--port", "0", "--migration", SPEC],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")},
    )
    try:
        lines = [proc.stdout.readline() for _ in range(6)]  # up to "Ctrl-C to stop."
        # Then it created the catalog's resources and prints the export that selects the definition
        assert any("(catalog migration)" in line for line in lines), lines
        assert f"export CUTOVER_MIGRATION={SPEC}\n" in lines, lines
    finally:
        time.sleep(0.5)  # the signal handlers are installed right after the last line
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0


def test_init_creates_them_on_dynalite_too(catalog, dynalite_server):
    # Given DynamoDB on dynalite (stricter than moto: it validates key schemas and projections itself)
    on_dynalite = replace(catalog, dynamodb_endpoint_url=dynalite_server.endpoint_url)
    # When init runs with the catalog definition
    result = cli(catalog, "init", "--json", "--dynamodb-endpoint-url", dynalite_server.endpoint_url)
    created = ok(result)["created"]
    # Then dynalite holds every source table (with its GSI) and the target with its INCLUDE projection
    from cutover.clients import Clients

    ddb, names = Clients(on_dynalite).dynamodb, on_dynalite.names
    assert {*names.source_tables().values(), names.v3_table} <= set(created)
    products = ddb.describe_table(TableName=names.source_table("products"))["Table"]
    assert [ix["IndexName"] for ix in products["GlobalSecondaryIndexes"]] == ["category-index"]
    target = ddb.describe_table(TableName=names.v3_table)["Table"]  # (dynalite has no Streams: no stream to see)
    assert target["GlobalSecondaryIndexes"][0]["Projection"]["NonKeyAttributes"] == ["title", "reviewerHash"]


def test_the_lifecycle_on_the_catalog_migration(catalog, tmp_path):
    ok(cli(catalog, "init", "--json"))
    from cutover.clients import Clients

    clients, names = Clients(catalog), catalog.names
    products, reviews = names.source_table("products"), names.source_table("reviews")
    # Given legacy writes: a product (fans out into two items), a review, and one bad item of each
    _put(clients, products, {"sku": "p1", "name": "Lamp", "price": Decimal("19.90"), "category": "home"})
    _put(clients, products, {"sku": "p2", "name": "Broken", "price": Decimal(-1)})
    review = {"productId": "p1", "reviewId": "r1", "status": "PUBLISHED", "rating": 4, "reviewerEmail": " A@b.io "}
    _put(clients, reviews, review)
    _put(clients, reviews, {"productId": "p1", "reviewId": "r2", "status": "DRAFT", "rating": 5})
    # When sync drains once
    synced = ok(cli(catalog, "sync", "--once", "--json"))
    # Then every record is accounted for, per source role
    assert synced["applied"] == 4 and synced["quarantined"] == 2
    assert synced["tables"] == {"products": 2, "reviews": 2}
    assert _target(clients, names, "PRODUCT#p1", "DETAILS")["name"] == "Lamp"
    assert _target(clients, names, "CATEGORY#home", "PRODUCT#p1")["price"] == Decimal("19.90")
    review = _target(clients, names, "PRODUCT#p1", "REVIEW#PUBLISHED#r1")
    assert "reviewerEmail" not in review and len(review["reviewerHash"]) == 64  # hashed under the test secret

    # And quarantine list shows both bad items, the composite key as the canonical JSON it stores
    r2 = CATALOG.source_key_text("reviews", {"productId": "p1", "reviewId": "r2"})
    assert json.loads(r2) == {"productId": "p1", "reviewId": "r2"}
    listed = ok(cli(catalog, "quarantine", "list", "--json"))
    assert [(r["source"], r["key"], r["reason"]) for r in listed] == [
        ("products", "p2", "invalid_product"),
        ("reviews", r2, "invalid_review"),
    ]
    human = cli(catalog, "quarantine", "list")
    assert human.exit_code == 0 and r2 in human.output.replace("\n", "")

    # When the bad review is fixed at the source and re-driven by its key, typed as JSON in any order
    _put(clients, reviews, {"productId": "p1", "reviewId": "r2", "status": "PUBLISHED", "rating": 5})
    wrong = cli(catalog, "quarantine", "redrive", "--source", "reviews", "--key", "r2")
    assert wrong.exit_code == 2 and wrong.stderr.count("\n") == 1 and "is not a reviews key" in wrong.stderr
    typed = '{ "reviewId": "r2", "productId": "p1" }'
    redriven = ok(cli(catalog, "quarantine", "redrive", "--source", "reviews", "--key", typed, "--json"))
    # Then it is written to its target key and resolved; the product stays quarantined
    assert [(r["key"], r["outcome"]) for r in redriven["results"]] == [(r2, "written")]
    assert _target(clients, names, "PRODUCT#p1", "REVIEW#PUBLISHED#r2")["gsi1pk"] == "PRODUCT#p1"
    assert [r["key"] for r in ok(cli(catalog, "quarantine", "list", "--json"))] == ["p2"]

    # Given a product whose target items are missing, as history the streams never saw would be
    for pk, sk in (("PRODUCT#p1", "DETAILS"), ("CATEGORY#home", "PRODUCT#p1")):
        clients.dynamodb.delete_item(TableName=names.v3_table, Key=to_ddb({"pk": pk, "sk": sk}))
    # When backfill runs over every role, Then it completes and fills both items back
    assert cli(catalog, "backfill", "--table", "users", "--quiet").exit_code == 2  # not a role of this migration
    filled = ok(cli(catalog, "backfill", "--table", "all", "--quiet", "--json"))
    assert filled["complete"] is True and set(filled["tables"]) == {"products", "reviews"}
    assert _target(clients, names, "PRODUCT#p1", "DETAILS") is not None
    assert _target(clients, names, "CATEGORY#home", "PRODUCT#p1") is not None
    # And reconcile finds the target clean (the bad product is quarantined, not missing)
    report = ok(cli(catalog, "reconcile", "--quiet", "--json", "--report", str(tmp_path / "r.json")))
    assert report["clean"] is True and report["counts"]["quarantined"] == 1

    # And status shows one row per source role, the definition's tables and the open quarantine
    ok(cli(catalog, "sync", "--once", "--json"))
    status = ok(cli(catalog, "status", "--json"))
    assert status["tables"]["products"] == products and status["tables"]["reviews"] == reviews
    assert status["tables"]["v3"] == names.v3_table
    assert sorted(p["source"] for p in status["replication"]["positions"]) == ["products", "reviews"]
    assert set(status["replication"]["lag_by_source"]) == {"products", "reviews"}
    assert status["quarantine_open"] == 1 and status["reconcile"]["clean"] is True
    # And the on-failure queues are the definition's roles'
    assert ok(cli(catalog, "dlq", "list", "--json")) == []


def test_a_key_of_the_wrong_form_is_one_line_naming_the_form(catalog):
    ok(cli(catalog, "init", "--json"))
    for key, needle in (
        ('{"productId": "p1"}', 'give JSON {"productId":<string>,"reviewId":<string>}'),
        ('{"productId": "p1", "reviewId": 7}', "reviewId must be a string"),
    ):
        result = cli(catalog, "quarantine", "redrive", "--source", "reviews", "--key", key)
        assert result.exit_code == 2 and result.stderr.count("\n") == 1 and needle in result.stderr, result.stderr
    unknown = cli(catalog, "quarantine", "redrive", "--source", "users", "--key", "u1")
    assert unknown.exit_code == 2 and "use products, reviews or all" in unknown.stderr


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_demo_runs_the_whole_lifecycle_on_the_catalog_migration():
    # Given no endpoint (the demo starts its own) and the catalog definition
    result = CliRunner(env={"CUTOVER_ENDPOINT_URL": None, "CUTOVER_MIGRATION": None}).invoke(
        main, ["demo", "--migration", SPEC, "--quick", "--json"]
    )
    # Then it completes, exit 0: generated items synced, backfilled, reconciled clean, flipped and rolled back
    assert result.exit_code == 0, result.output[-3000:]
    report = json.loads(result.stdout)
    rows = {(r["step"], r["what"]): r["value"] for r in report["rows"]}
    assert report["complete"] is True
    assert rows[("seed", "per source role")] == "products 100, reviews 100"
    assert int(rows[("seed", "of which bad (must be quarantined)")]) > 0
    matching, total = rows[("v3", "legacy items matching transform(item)")].split(" of ")
    assert matching == total
    assert rows[("reconcile", "verdict")] == "CLEAN"
    assert any(step == "quarantine" and value == "written" for (step, _), value in rows.items())
    assert rows[("cut-over", "flip v3")].startswith("read-source shadow -> v3")
    assert rows[("cut-over", "rollback")] == "read-source v3 -> legacy"
    assert "seed migration" in rows[("cut-over", "shadow reads")]  # the seed-only API reads, skipped with a note
