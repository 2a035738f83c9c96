"""The guarded write path and quarantine against the moto server (real HTTP)."""

import pytest

from cutover.codec import from_ddb
from replicator.apply import apply_plan
from replicator.changes import Change, plan
from replicator.quarantine import QuarantineStore
from replicator.v3_writer import Outcome, V3Writer

pytestmark = pytest.mark.server


def _get(clients, names, user_id, record_type):
    resp = clients.dynamodb.get_item(
        TableName=names.v3_table, Key={"userId": {"S": user_id}, "recordType": {"S": record_type}}, ConsistentRead=True
    )
    return from_ddb(resp["Item"]) if "Item" in resp else None


def test_init_creates_every_resource_once(settings, clients):
    # Given a backend initialised by the fixture, When init runs again, Then nothing is created
    from cutover_cli.local_backend import init_backend

    assert init_backend(settings, clients) == []
    # ListTables returns at most 100 names a page, and the session's server holds many tests' tables
    tables = clients.dynamodb.get_paginator("list_tables").paginate().build_full_result()["TableNames"]
    assert all(spec.name in tables for spec in settings.names.all_specs())


def test_older_version_never_overwrites_newer(settings, clients):
    writer = V3Writer(clients.dynamodb, settings.names.v3_table)
    item = {"userId": "u1", "recordType": "PROFILE", "email": "new@x"}
    assert writer.put(item, "2.0", "users#u1") is Outcome.WRITTEN
    assert writer.put({**item, "email": "old@x"}, "1.0", "users#u1") is Outcome.SKIPPED
    assert writer.put(item, "2.0", "users#u1") is Outcome.SKIPPED  # duplicate
    assert writer.fill({**item, "email": "bf@x"}, "users#u1") is Outcome.SKIPPED
    assert _get(clients, settings.names, "u1", "PROFILE")["email"] == "new@x"


def test_order_move_tombstones_old_key_and_bad_item_is_quarantined(settings, clients):
    names = settings.names
    writer = V3Writer(clients.dynamodb, names.v3_table)
    store = QuarantineStore(clients.dynamodb, names.quarantine_table)
    old = {"orderId": "o1", "userId": "a"}
    new = {"orderId": "o1", "userId": "b"}
    apply_plan(
        plan(Change("orders", "INSERT", {"orderId": "o1"}, None, old, "1")), writer, store, names.source_table("orders")
    )
    apply_plan(
        plan(Change("orders", "MODIFY", {"orderId": "o1"}, old, new, "2")), writer, store, names.source_table("orders")
    )
    assert _get(clients, names, "a", "ORDER#o1")["_deleted"] is True
    assert _get(clients, names, "b", "ORDER#o1")["entityType"] == "ORDER"
    bad = {"orderId": "o1", "userId": 7}
    result = apply_plan(
        plan(Change("orders", "MODIFY", {"orderId": "o1"}, new, bad, "3")), writer, store, names.source_table("orders")
    )
    assert result.quarantined == 1 and result.tombstoned == 1
    entry = store.get("orders", "o1")
    assert entry.reason == "invalid_user_id" and entry.legacy_item()["userId"] == 7
