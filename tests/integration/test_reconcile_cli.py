"""`cutover reconcile` on the moto server: every kind of difference planted, reported, repaired.

Also: a repair never overwrites an item replication wrote meanwhile, and the stored summary is
what the flip interlock reads.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from backfill.runner import run_backfill
from cutover.codec import from_ddb, to_ddb
from cutover.state import RECONCILE, ReportStore
from cutover_cli.app import main
from migrations.seed.errors import InvalidEmailError
from migrations.seed.transform import transform
from replicator.contract.versioning import stream_version
from replicator.quarantine import OPEN, RESOLVED, QuarantineStore, entry_for
from replicator.v3_writer import V3Writer

pytestmark = pytest.mark.server
# fixed-date: the racing replication write; v3 holds backfill's "0" or a repair's bump, never a clock version
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/x/stream/2026-01-01T00:00:00.000"


def _put(clients, table, item):
    clients.dynamodb.put_item(TableName=table, Item=to_ddb(item))


def _v3(clients, names, user_id, record_type):
    resp = clients.dynamodb.get_item(
        TableName=names.v3_table, Key=to_ddb({"userId": user_id, "recordType": record_type}), ConsistentRead=True
    )
    return from_ddb(resp["Item"]) if "Item" in resp else None


def _reconcile(settings, tmp_path, *args):
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        main,
        [
            "reconcile",
            "--endpoint-url",
            settings.endpoint_url,
            "--service",
            settings.service,
            "--segments",
            "2",
            "--report",
            str(report),
            *args,
        ],
    )
    return result, (json.loads(report.read_text()) if report.exists() else None)


@pytest.fixture
def migrated(settings, clients):
    """Legacy with 12 users, 12 orders and one quarantined bad user, fully backfilled: clean."""
    names = settings.names
    for i in range(12):
        _put(clients, names.source_table("users"), {"userId": f"u{i}", "email": f"u{i}@x", "plan": "free"})
        _put(clients, names.source_table("orders"), {"orderId": f"o{i}", "userId": f"u{i % 4}", "total": i})
    _put(
        clients, names.source_table("users"), {"userId": "bad1"}
    )  # no email: bad input AWS can store (a numeric one cannot be)
    run_backfill(settings, clients, segments=2, workers=2, require_sync=False)
    return names


def test_clean_migration_exits_0_and_stores_the_summary(settings, clients, migrated, tmp_path):
    result, report = _reconcile(settings, tmp_path, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["clean"] is True and out["counts"]["compared"] == 25 and out["counts"]["quarantined"] == 1
    assert report["differences"] == [] and report["summary"]["clean"] is True
    stored = ReportStore(clients.dynamodb, migrated.reports_table).latest(RECONCILE)
    assert stored["clean"] is True and set(stored) >= {"finished_at", "clean", "counts", "sample", "report_path"}
    assert set(stored["counts"]) >= {"compared", "missing", "extra", "different", "quarantined"}


def test_every_kind_of_difference_is_reported_then_repaired(settings, clients, migrated, tmp_path):
    names = migrated
    writer = V3Writer(clients.dynamodb, names.v3_table)
    quarantine = QuarantineStore(clients.dynamodb, names.quarantine_table)
    # Given: missing (v3 lost u1)
    clients.dynamodb.delete_item(TableName=names.v3_table, Key=to_ddb({"userId": "u1", "recordType": "PROFILE"}))
    # different attribute (v3 u2 has another plan)
    _put(clients, names.v3_table, {**_v3(clients, names, "u2", "PROFILE"), "plan": "pro"})
    # stale version (legacy u3 changed, the change never reached v3)
    _put(clients, names.source_table("users"), {"userId": "u3", "email": "u3@x", "plan": "gold"})
    # extra: a v3 user nobody ever had
    writer.put({"userId": "ghost", "recordType": "PROFILE", "entityType": "USER", "email": "g@x"}, "5", "users#ghost")
    # zombie after delete (legacy o5 deleted, v3 never heard)
    clients.dynamodb.delete_item(TableName=names.source_table("orders"), Key=to_ddb({"orderId": "o5"}))
    # stale location after a userId move (legacy o6 moved u2 -> u3; v3 still has it under u2)
    _put(clients, names.source_table("orders"), {"orderId": "o6", "userId": "u3", "total": 6})
    # an unquarantined bad item, and a quarantine entry whose item has since been deleted
    _put(clients, names.source_table("users"), {"userId": "bad2", "email": "   "})
    quarantine.put(
        entry_for(
            InvalidEmailError("users", "gone", "x"), names.source_table("users"), {"userId": "gone"}, "1", "replication"
        )
    )

    # When reconcile runs
    result, report = _reconcile(settings, tmp_path)
    # Then it exits 1, and each difference is in the report with its keys and attributes
    assert result.exit_code == 1, result.output
    found = {
        (d["kind"], d["source"], d["source_key"], d["v3_key"]["userId"] if d["v3_key"] else None): d
        for d in report["differences"]
    }
    assert set(found) == {
        ("missing", "users", "u1", "u1"),
        ("different", "users", "u2", "u2"),
        ("different", "users", "u3", "u3"),
        ("extra", "users", "ghost", "ghost"),
        ("extra", "orders", "o5", "u1"),
        ("extra", "orders", "o6", "u2"),
        ("missing", "orders", "o6", "u3"),
        ("unquarantined_bad_item", "users", "bad2", None),
    }
    assert found[("different", "users", "u2", "u2")]["attributes"] == {"plan": {"expected": "free", "actual": "pro"}}
    assert found[("different", "users", "u3", "u3")]["attributes"] == {"plan": {"expected": "gold", "actual": "free"}}
    assert found[("extra", "orders", "o5", "u1")]["detail"] == "source_deleted"
    assert found[("extra", "orders", "o6", "u2")]["detail"] == "source_moved"
    c = report["summary"]["counts"]
    assert (c["missing"], c["extra"], c["different"], c["unquarantined"], c["quarantined"]) == (2, 3, 2, 1, 1)
    assert "DIFFERENCES FOUND" in result.output and "full report" in result.output
    # And the stale quarantine entry was resolved
    assert quarantine.get("users", "gone").status == RESOLVED and c["quarantine_resolved"] == 1

    # When reconcile --repair runs, Then every difference is fixed and re-checked (exit 0)
    result, report = _reconcile(settings, tmp_path, "--repair")
    assert result.exit_code == 0, result.output
    assert report["summary"]["counts"]["repaired"] == 8 and report["summary"]["counts"]["remaining"] == 0
    assert (
        _v3(clients, names, "u2", "ORDER#o6")["_deleted"] is True
        and _v3(clients, names, "u3", "ORDER#o6")["total"] == 6
    )
    assert _v3(clients, names, "ghost", "PROFILE")["_deleted"] is True
    assert _v3(clients, names, "u2", "PROFILE")["_version"] > "0"  # repaired via put, above what it saw
    assert quarantine.get("users", "bad2").status == OPEN
    # And a plain reconcile afterwards is clean
    result, _ = _reconcile(settings, tmp_path)
    assert result.exit_code == 0, result.output


def test_repair_never_overwrites_what_replication_wrote_meanwhile(settings, clients, migrated, tmp_path):
    names = migrated
    # Given v3 u4 differs from legacy
    _put(clients, names.v3_table, {**_v3(clients, names, "u4", "PROFILE"), "plan": "wrong"})
    # And, just before the repair's write lands, the source changes and replication writes it (newer version)
    other = V3Writer(clients.client("dynamodb"), names.v3_table)
    fired = []

    def race(params, **_):
        if not fired and params["TableName"] == names.v3_table and params["Item"]["_version"]["S"].endswith("~r"):
            fired.append(1)
            new = {"userId": "u4", "email": "u4@x", "plan": "platinum"}
            _put(clients, names.source_table("users"), new)
            other.put(transform("users", new)[0], stream_version(ARN, "900"), "users#u4")

    clients.dynamodb.meta.events.register("provide-client-params.dynamodb.PutItem", race)
    from reconciler.run import run_reconcile

    # When reconcile --repair runs
    report = run_reconcile(settings, clients, segments=2, repair=True, report_path=str(tmp_path / "r.json"))
    # Then the repair was refused by the version guard: replication's newer item stays, nothing remains
    assert fired
    item = _v3(clients, names, "u4", "PROFILE")
    assert item["plan"] == "platinum" and item["_version"] == stream_version(ARN, "900")
    assert report.clean and report.counts["different"] == 1


def test_sample_checks_a_fraction_and_bad_sample_exits_2(settings, clients, migrated, tmp_path):
    result, report = _reconcile(settings, tmp_path, "--sample", "0.3", "--json")
    assert result.exit_code == 0
    assert 0 < report["summary"]["counts"]["compared"] < 25 and report["summary"]["sample"] == 0.3
    result, _ = _reconcile(settings, tmp_path, "--sample", "1.5")
    assert result.exit_code == 2 and "--sample" in result.output


def test_backend_error_exits_2(tmp_path):
    result = CliRunner().invoke(
        main, ["reconcile", "--endpoint-url", "http://127.0.0.1:9", "--report", str(tmp_path / "r.json")]
    )
    assert result.exit_code == 2 and "error:" in result.output
