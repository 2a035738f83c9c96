"""Writes to v3 that do not come from the stream (repair, re-drive, sweep) racing replication (issue 9).

Each test injects a legacy change plus its replication between a read and the write of the path
under test (a botocore provide-client-params hook on the path's own client) and checks v3 and quarantine
afterwards: no zombie above a tombstone, no rollback, no newer quarantine entry closed.
"""

from __future__ import annotations

import pytest
from moto import mock_aws

from cutover.clients import Clients
from cutover.codec import from_ddb, to_ddb
from cutover.settings import Settings
from cutover.tables import Tables
from migrations.seed.errors import InvalidEmailError
from migrations.seed.transform import transform
from reconciler.checker import Checker
from reconciler.report import DifferenceSink
from reconciler.sweep import sweep_quarantine
from replicator.quarantine import OPEN, QuarantineStore, entry_for
from replicator.redrive import Redriven, Redriver
from replicator.v3_writer import V3Writer


@pytest.fixture
def env():
    with mock_aws():
        settings = Settings(service="unit", region="us-east-1")
        setup = Clients(settings).dynamodb
        for spec in settings.names.all_specs():
            setup.create_table(**spec.create_table_kwargs())
        yield settings, setup  # `setup` plays the application and replication; paths get their own client


def _legacy_put(client, settings, source, item):
    table = settings.names.source_table("users") if source == "users" else settings.names.source_table("orders")
    client.put_item(TableName=table, Item=to_ddb(item))


def _v3(client, settings, user_id, record_type):
    resp = client.get_item(
        TableName=settings.names.v3_table,
        Key=to_ddb({"userId": user_id, "recordType": record_type}),
        ConsistentRead=True,
    )
    return from_ddb(resp["Item"]) if "Item" in resp else None


def _once_before(client, operation, table, action):
    """Run `action` once, just before `client`'s first `operation` call on `table`."""
    fired = []

    def hook(params, **_):
        if not fired and params.get("TableName") == table:
            fired.append(1)
            action()

    client.meta.events.register(f"provide-client-params.dynamodb.{operation}", hook)
    return fired


def _checker(settings):
    client = Clients(settings).dynamodb
    return client, Checker(client, Tables.from_names(settings.names), DifferenceSink(None), repair=True)


def test_repair_never_writes_a_deleted_item_back_above_its_tombstone(env):
    settings, app = env
    names = settings.names
    user = {"userId": "u1", "email": "a@b", "plan": "free"}
    _legacy_put(app, settings, "users", user)
    V3Writer(app, names.v3_table).put({**transform("users", user)[0], "plan": "stale"}, "5", "users#u1")
    client, checker = _checker(settings)

    def delete_and_replicate():
        app.delete_item(TableName=names.source_table("users"), Key=to_ddb({"userId": "u1"}))
        V3Writer(app, names.v3_table).tombstone(("u1", "PROFILE"), "6", "users#u1")

    # Given the source deletes u1 and replication tombstones it just before the repair reads v3
    fired = _once_before(client, "GetItem", names.v3_table, delete_and_replicate)
    # When reconcile --repair confirms the difference it saw earlier
    checker.confirm_legacy("users", "u1")
    # Then v3 keeps the tombstone: no zombie, and nothing is reported as a difference
    assert fired
    assert _v3(app, settings, "u1", "PROFILE")["_deleted"] is True
    assert checker.sink.counts["remaining"] == 0


def test_repair_never_writes_a_moved_order_back_at_its_old_location(env):
    settings, app = env
    names = settings.names
    order = {"orderId": "o1", "userId": "u1", "total": 1}
    _legacy_put(app, settings, "orders", order)
    writer = V3Writer(app, names.v3_table)
    writer.put({**transform("orders", order)[0], "total": 0}, "5", "orders#o1")
    client, checker = _checker(settings)

    def move_and_replicate():
        moved = {**order, "userId": "u2"}
        _legacy_put(app, settings, "orders", moved)
        writer.tombstone(("u1", "ORDER#o1"), "6", "orders#o1")
        writer.put(transform("orders", moved)[0], "6", "orders#o1")

    # Given the order moves to u2 (and replication applies the move) just before the repair reads v3
    fired = _once_before(client, "GetItem", names.v3_table, move_and_replicate)
    # When reconcile --repair confirms the difference
    checker.confirm_legacy("orders", "o1")
    # Then the old location stays a tombstone and the new one holds the order
    assert fired
    assert _v3(app, settings, "u1", "ORDER#o1")["_deleted"] is True
    assert _v3(app, settings, "u2", "ORDER#o1")["total"] == 1


def test_repair_never_rolls_back_an_update_replication_applied_meanwhile(env):
    settings, app = env
    names = settings.names
    user = {"userId": "u1", "email": "a@b", "plan": "free"}
    _legacy_put(app, settings, "users", user)
    writer = V3Writer(app, names.v3_table)
    writer.put({**transform("users", user)[0], "plan": "stale"}, "5", "users#u1")
    client, checker = _checker(settings)

    def update_and_replicate():
        newer = {**user, "plan": "gold"}
        _legacy_put(app, settings, "users", newer)
        writer.put(transform("users", newer)[0], "6", "users#u1")

    # Given the source updates u1 (replicated) between the repair's legacy read and its v3 read
    fired = _once_before(client, "GetItem", names.v3_table, update_and_replicate)
    checker.confirm_legacy("users", "u1")
    # Then v3 keeps the newer item, and the check judged the new state (no difference remains)
    assert fired
    assert _v3(app, settings, "u1", "PROFILE")["plan"] == "gold"
    assert checker.sink.counts["remaining"] == 0


def _bad_entry(settings, version):
    err = InvalidEmailError("users", "u1", "email must be a string")
    return entry_for(err, settings.names.source_table("users"), {"userId": "u1", "email": 42}, version, "replication")


def test_redrive_never_resolves_a_newer_entry_replication_opened_meanwhile(env):
    settings, app = env
    names = settings.names
    store = QuarantineStore(app, names.quarantine_table)
    store.put(_bad_entry(settings, "1"))
    _legacy_put(app, settings, "users", {"userId": "u1", "email": "fixed@b"})
    client = Clients(settings).dynamodb
    redriver = Redriver(client, names)
    # Given the item turns bad again and replication re-quarantines it just before the re-drive resolves
    fired = _once_before(client, "UpdateItem", names.quarantine_table, lambda: store.put(_bad_entry(settings, "7")))
    result = redriver.redrive(store.get("users", "u1"))
    # Then the newer entry stays open, and the re-drive says so
    assert fired
    assert store.get("users", "u1").status == OPEN and store.get("users", "u1").version == "7"
    assert result.outcome is Redriven.CHANGING


def test_redrive_writes_over_exactly_what_it_read_and_rechecks_after_a_race(env):
    settings, app = env
    names = settings.names
    store = QuarantineStore(app, names.quarantine_table)
    store.put(_bad_entry(settings, "1"))
    _legacy_put(app, settings, "users", {"userId": "u1", "email": "fixed@b"})
    client = Clients(settings).dynamodb

    def delete_and_replicate():
        app.delete_item(TableName=names.source_table("users"), Key=to_ddb({"userId": "u1"}))
        V3Writer(app, names.v3_table).tombstone(("u1", "PROFILE"), "0~r", "users#u1")  # any version above absent

    # Given the source deletes u1 and its tombstone lands just before the re-drive's write
    fired = _once_before(client, "PutItem", names.v3_table, delete_and_replicate)
    result = Redriver(client, names).redrive(store.get("users", "u1"))
    # Then the write is refused (v3 is no longer absent), the re-check sees the delete: GONE, no zombie
    assert fired
    assert _v3(app, settings, "u1", "PROFILE")["_deleted"] is True
    assert result.outcome is Redriven.GONE


def test_sweep_never_resolves_a_newer_entry_replication_opened_meanwhile(env):
    settings, app = env
    names = settings.names
    store = QuarantineStore(app, names.quarantine_table)
    store.put(_bad_entry(settings, "1"))
    good = {"userId": "u1", "email": "fixed@b"}
    _legacy_put(app, settings, "users", good)
    V3Writer(app, names.v3_table).put(transform("users", good)[0], "2", "users#u1")
    _, checker = _checker(settings)
    # Given the item turns bad again and replication re-quarantines it just before the sweep resolves
    fired = _once_before(
        checker.client, "UpdateItem", names.quarantine_table, lambda: store.put(_bad_entry(settings, "7"))
    )
    sweep_quarantine(checker, None)
    # Then the newer entry stays open
    assert fired
    assert store.get("users", "u1").status == OPEN and store.get("users", "u1").version == "7"
    assert checker.sink.counts["quarantine_resolved"] == 0


def test_repair_does_not_open_an_entry_for_an_item_fixed_and_replicated_meanwhile(env):
    settings, app = env
    names = settings.names
    bad = {"userId": "u1", "email": 42}
    good = {"userId": "u1", "email": "fixed@b"}
    _legacy_put(app, settings, "users", bad)  # bad, and replication has not quarantined it yet
    store = QuarantineStore(app, names.quarantine_table)
    client, checker = _checker(settings)

    def fix_and_replicate():
        from replicator.apply import apply_plan
        from replicator.changes import Change, plan

        _legacy_put(app, settings, "users", good)
        change = Change("users", "MODIFY", {"userId": "u1"}, bad, good, "5")
        apply_plan(plan(change), V3Writer(app, names.v3_table), store, names.source_table("users"))

    # Given the item is fixed at the source and replicated just before the repair opens its entry
    fired = _once_before(client, "PutItem", names.quarantine_table, fix_and_replicate)
    checker.confirm_legacy("users", "u1")
    # Then no open entry is left for the (now good) item: it would block the flip for nothing
    assert fired
    entry = store.get("users", "u1")
    assert entry is None or entry.status != OPEN
