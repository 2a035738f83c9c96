"""Issue 18's "tried as a new user would": copy the second example into your own package, change
it to other tables (and roles), name it in your pyproject's `[tool.cutover]`, and every command
works from your directory without touching cutover's code: check, init, sync, quarantine and
re-drive, backfill, reconcile, repair, the flip gate, status. (The remote runs are the
rehearsal's: tests/integration/test_remote_cli.py.)"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cutover.clients import Clients
from cutover.codec import from_ddb, to_ddb
from cutover.migration_loader import clear_cache, load_migration
from cutover.settings import Settings
from cutover_cli.app import main

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parents[2]
EDITS = (  # the catalog's names -> the team's own: three tables, two roles, the migration
    ('PRODUCTS, REVIEWS = "products", "reviews"', 'PRODUCTS, REVIEWS = "items", "opinions"'),
    ('"{service}-{stage}-products"', '"{service}-{stage}-items"'),
    ('"{service}-{stage}-reviews"', '"{service}-{stage}-opinions"'),
    ('"{service}-{stage}-catalog"', '"{service}-{stage}-shop"'),
    ('name="catalog"', 'name="shop"'),
)


@pytest.fixture
def team(tmp_path, monkeypatch) -> Path:
    """The team's checkout: `acme_shop/definition.py` (the edited copy) and a pyproject naming it."""
    package = tmp_path / "acme_shop"
    package.mkdir()
    source = (ROOT / "migrations" / "catalog.py").read_text()
    for old, new in EDITS:
        assert source.count(old) == 1, old  # the example changed: update EDITS
        source = source.replace(old, new)
    (package / "__init__.py").write_text("")
    (package / "definition.py").write_text(source)
    (tmp_path / "pyproject.toml").write_text('[tool.cutover]\nmigration = "acme_shop.definition:MIGRATION"\n')
    monkeypatch.chdir(tmp_path)
    clear_cache()
    yield tmp_path
    clear_cache()


def test_a_copied_and_renamed_example_runs_every_command_from_the_teams_directory(team, moto_server):
    service = f"w{uuid.uuid4().hex[:10]}"

    def cli(*args: str, code: int = 0):
        result = CliRunner().invoke(
            main,
            [*args, "--endpoint-url", moto_server.endpoint_url, "--service", service],
            env={"CUTOVER_MIGRATION": None, "CUTOVER_LEGACY_TABLES": None},
        )
        assert result.exit_code == code, (args, result.output)
        return json.loads(result.stdout) if result.stdout.strip().startswith(("{", "[")) else result.output

    # When the team proves its definition, found through [tool.cutover] alone (CI proves the
    # shipped examples at 200 examples: here, that it is found and passes)
    assert cli("check", "--examples", "10", "--json")["migration"] == "shop"
    # And creates its tables: its own names, nothing of the catalog's
    created = cli("init", "--json")["created"]
    assert {f"{service}-dev-items", f"{service}-dev-opinions", f"{service}-dev-shop"} <= set(created)
    assert not [name for name in created if "catalog" in name or "products" in name or "reviews" in name]

    migration = load_migration()
    assert migration.name == "shop" and migration.roles == ("items", "opinions")
    settings = Settings(service=service, endpoint_url=moto_server.endpoint_url, region="us-east-1")
    clients, names = Clients(settings), settings.names

    def put(role: str, item: dict) -> None:
        clients.dynamodb.put_item(TableName=f"{service}-dev-{role}", Item=to_ddb(item))

    def target(pk: str, sk: str) -> dict | None:
        table = f"{service}-dev-shop"
        found = clients.dynamodb.get_item(TableName=table, Key=to_ddb({"pk": pk, "sk": sk}), ConsistentRead=True)
        return from_ddb(found["Item"]) if "Item" in found else None

    # Given legacy writes: an item (fans out into two), an opinion, and a bad item
    put("items", {"sku": "p1", "name": "Lamp", "price": Decimal("19.90"), "category": "home"})
    put("items", {"sku": "p2", "name": "Broken", "price": Decimal(-1)})
    put("opinions", {"productId": "p1", "reviewId": "r1", "status": "PUBLISHED", "rating": 4, "reviewerEmail": "a@b"})
    # When sync drains once, Then every record is accounted for under the team's roles
    synced = cli("sync", "--once", "--json")
    assert (synced["applied"], synced["quarantined"], synced["tables"]) == (
        3,
        1,
        {"items": 2, "opinions": 1},
    )  # p1 fans out
    assert target("PRODUCT#p1", "DETAILS")["name"] == "Lamp" and target("CATEGORY#home", "PRODUCT#p1")
    assert len(target("PRODUCT#p1", "REVIEW#PUBLISHED#r1")["reviewerHash"]) == 64

    # And the bad item is in quarantine under its role; fixed at the source, it is re-driven
    assert [(q["source"], q["key"]) for q in cli("quarantine", "list", "--json")] == [("items", "p2")]
    put("items", {"sku": "p2", "name": "Fixed", "price": Decimal("1.00")})
    redriven = cli("quarantine", "redrive", "--source", "items", "--key", "p2", "--json")
    assert [r["outcome"] for r in redriven["results"]] == ["written"]
    assert cli("quarantine", "list", "--json") == []

    # When history the streams never saw is lost from the target, backfill fills it back
    clients.dynamodb.delete_item(TableName=f"{service}-dev-shop", Key=to_ddb({"pk": "PRODUCT#p1", "sk": "DETAILS"}))
    filled = cli("backfill", "--table", "all", "--quiet", "--json")
    assert filled["complete"] is True and set(filled["tables"]) == {"items", "opinions"}
    assert target("PRODUCT#p1", "DETAILS") is not None

    # When a target item goes stale, reconcile finds it and the flip to v3 is refused
    clients.dynamodb.update_item(
        TableName=f"{service}-dev-shop", Key=to_ddb({"pk": "PRODUCT#p1", "sk": "DETAILS"}),
        UpdateExpression="SET staleMark = :v", ExpressionAttributeValues={":v": {"S": "stale"}},
    )  # fmt: skip
    report = ("--quiet", "--report", str(team / "reconcile.json"))
    assert "different 1" in cli("reconcile", *report, code=1)
    cli("flip", "shadow")
    assert "the last reconcile is not clean" in cli("flip", "v3", code=1)
    # Then a repair fixes it, and after a clean reconcile the flip is allowed
    assert "repaired 1  remaining 0" in cli("reconcile", "--repair", *report)
    cli("sync", "--once")
    cli("reconcile", *report)
    # (the team has no application here, so no shadow reads: the shadow minimums are lowered on the
    # record, as `cutover demo --migration` does; every other rule still applies)
    no_app = ("--min-shadow-seconds", "0", "--min-shadow-keys", "0", "--reason", "no application reads here")
    assert "read-source: shadow -> v3" in cli("flip", "v3", *no_app)
    # And status shows the team's tables and roles
    status = cli("status", "--json")
    assert status["tables"]["items"] == f"{service}-dev-items" and status["tables"]["v3"] == f"{service}-dev-shop"
    assert set(status["replication"]["lag_by_source"]) == {"items", "opinions"}
    assert status["quarantine_open"] == 0 and status["reconcile"]["clean"] is True
    assert names.migration is migration
