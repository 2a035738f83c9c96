"""`cutover quarantine list|redrive` through the CLI against the moto server."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cutover.codec import from_ddb, to_ddb
from cutover_cli.app import main

pytestmark = pytest.mark.server


def cli(settings, *args):
    return CliRunner().invoke(main, [*args, "--endpoint-url", settings.endpoint_url, "--service", settings.service])


def _put(clients, table, item):
    clients.dynamodb.put_item(TableName=table, Item=to_ddb(item))


def _v3_item(clients, names, user_id, record_type):
    resp = clients.dynamodb.get_item(
        TableName=names.v3_table, Key=to_ddb({"userId": user_id, "recordType": record_type}), ConsistentRead=True
    )
    return from_ddb(resp["Item"]) if "Item" in resp else None


def test_redrive_writes_a_fixed_item_and_exits_1_while_one_is_still_bad(settings, clients):
    names = settings.names
    # Given two quarantined users
    _put(clients, names.source_table("users"), {"userId": "u1"})
    _put(clients, names.source_table("users"), {"userId": "u2", "email": "x@y.io", "createdAt": "soon"})
    assert cli(settings, "sync", "--once", "--json").exit_code == 0
    # When only u1 is fixed at the source and everything is re-driven
    _put(clients, names.source_table("users"), {"userId": "u1", "email": "Fixed@Y.io"})
    redriven = cli(settings, "quarantine", "redrive", "--all", "--json")
    # Then u1 is written and resolved, u2 is still bad, and the exit code says so
    assert redriven.exit_code == 1
    outcomes = {r["key"]: r["outcome"] for r in json.loads(redriven.stdout)["results"]}
    assert outcomes == {"u1": "written", "u2": "still-bad"}
    item = _v3_item(clients, names, "u1", "PROFILE")
    assert item["email"] == "fixed@y.io" and item["_version"].endswith("~r")
    # And once u2 is deleted at the source, re-driving it resolves it and exits 0
    clients.dynamodb.delete_item(TableName=names.source_table("users"), Key=to_ddb({"userId": "u2"}))
    assert cli(settings, "quarantine", "redrive", "--source", "users", "--key", "u2").exit_code == 0
    assert json.loads(cli(settings, "quarantine", "list", "--json").stdout) == []


def test_redrive_needs_a_target(settings):
    result = cli(settings, "quarantine", "redrive")
    assert result.exit_code == 2 and "--source and --key, or --all" in result.output


def test_list_shows_a_table_and_all_includes_resolved(settings, clients):
    names = settings.names
    # Given one quarantined user that is then deleted at the source and re-driven (resolved)
    _put(clients, names.source_table("users"), {"userId": "gone", "email": "   "})
    assert cli(settings, "sync", "--once", "--quiet").exit_code == 0
    human = cli(settings, "quarantine", "list")
    assert human.exit_code == 0 and "gone" in human.output and "invalid_email" in human.output
    clients.dynamodb.delete_item(TableName=names.source_table("users"), Key=to_ddb({"userId": "gone"}))
    redriven = cli(settings, "quarantine", "redrive", "--source", "users", "--key", "gone", "--json")
    assert redriven.exit_code == 0 and json.loads(redriven.stdout)["results"][0]["outcome"] == "gone"
    # Then it is hidden by default and shown, resolved, with --all
    assert "empty" in cli(settings, "quarantine", "list").output
    rows = json.loads(cli(settings, "quarantine", "list", "--all", "--json").stdout)
    assert [(r["key"], r["status"]) for r in rows] == [("gone", "resolved")]
    item = _v3_item(clients, names, "gone", "PROFILE")
    assert item is None or item["_deleted"] is True  # never a live copy of a bad item


def test_redrive_of_an_unknown_entry_is_one_line_exit_2(settings):
    result = cli(settings, "quarantine", "redrive", "--source", "orders", "--key", "nope")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "no open quarantine entry" in result.stderr


def test_list_fits_80_columns_with_every_key_and_detail_whole(settings, clients):
    names = settings.names
    # Given quarantined items with long details, and a key too long for any column
    long_key = "user-" + "k" * 70
    _put(clients, names.source_table("users"), {"userId": "u-ts", "email": "a@b.co", "createdAt": "the day after " * 6})
    _put(clients, names.source_table("users"), {"userId": long_key, "email": 42})
    _put(clients, names.source_table("orders"), {"orderId": "o-1", "amount": 3})
    assert cli(settings, "sync", "--once", "--quiet").exit_code == 0
    entries = json.loads(cli(settings, "quarantine", "list", "--json").stdout)
    assert len(entries) == 3 and max(len(e["detail"]) for e in entries) > 80
    for flags in ((), ("--all",)):
        # When the triage screen is printed on an 80-column terminal
        args = ["quarantine", "list", *flags, "--endpoint-url", settings.endpoint_url, "--service", settings.service]
        listed = CliRunner().invoke(main, args, env={"COLUMNS": "80"})
        assert listed.exit_code == 0, listed.output
        lines = listed.output.splitlines()
        # Then no line is wider than 80 columns
        assert max(len(line) for line in lines) <= 80, listed.output
        text = " ".join(line.strip() for line in lines)
        squeezed = text.replace(" ", "")
        for e in entries:
            # and every key, reason, time and detail is there whole (a detail wraps at spaces, under its row)
            assert e["key"] in squeezed and e["reason"] in text and e["seen"] in text, (e, listed.output)
            assert " ".join(e["detail"].split()) in text, (e["detail"], listed.output)
        assert ("status" in lines[1]) == bool(flags)
