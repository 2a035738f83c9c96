"""Items the transform accepts but DynamoDB refuses never block a path: each quarantines `write_rejected`.

moto enforces the 400 KB item limit like AWS, so an order just under the limit in legacy (v3 adds
entityType, recordType, `_version`, `_source`) is a real refusal here. moto does NOT refuse a
numeric GSI key (AWS does), so that rule is imitated by a hook citing the AWS page.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from backfill.runner import run_backfill
from cutover.clients import Clients
from cutover.codec import from_ddb, to_ddb
from cutover.tables import Tables
from migrations.seed.errors import InvalidUserIdError
from reconciler.checker import Checker
from reconciler.report import DifferenceSink
from replicator.quarantine import OPEN, QuarantineStore, entry_for
from replicator.redrive import Redriven, Redriver

LEGACY_MAX_BLOB = 404_950  # fits in legacy; transform(order) does not fit in v3 (moto counts like AWS)


@pytest.fixture
def env(aws_memory):
    return aws_memory


def _orders(settings, clients, *items):
    for item in items:
        clients.dynamodb.put_item(TableName=settings.names.source_table("orders"), Item=to_ddb(item))


def _huge(order_id="big"):
    return {"orderId": order_id, "userId": "u1", "blob": "x" * LEGACY_MAX_BLOB}


def _v3_keys(settings, clients):
    pages = clients.dynamodb.get_paginator("scan").paginate(TableName=settings.names.v3_table)
    return {(i["userId"]["S"], i["recordType"]["S"]) for p in pages for i in p["Items"]}


def test_backfill_quarantines_an_item_dynamodb_refuses_and_finishes(env):
    settings, clients = env
    # Given a good order and one whose v3 item would be over 400 KB
    _orders(settings, clients, {"orderId": "ok", "userId": "u1"}, _huge())
    # When backfill runs (one page holds both)
    summary = run_backfill(settings, clients, tables=("orders",), segments=1, require_sync=False)
    # Then it completes and checkpoints; the refused item is quarantined with the reason, the good one written
    t = summary.tables["orders"]
    assert summary.complete and (t.written, t.quarantined) == (1, 1)
    entry = QuarantineStore(clients.dynamodb, settings.names.quarantine_table).get("orders", "big")
    assert entry.status == OPEN and entry.reason == "write_rejected" and "ValidationException" in entry.detail
    assert _v3_keys(settings, clients) == {("u1", "ORDER#ok")}
    # And a re-run (a new run after a complete one, issue 13) finishes again without writing anything
    again = run_backfill(settings, clients, tables=("orders",), segments=1, require_sync=False)
    assert again.complete and again.tables["orders"].written == 0
    assert _v3_keys(settings, clients) == {("u1", "ORDER#ok")}


def test_redrive_of_an_item_dynamodb_refuses_keeps_it_quarantined_instead_of_raising(env):
    settings, clients = env
    names = settings.names
    _orders(settings, clients, _huge())
    store = QuarantineStore(clients.dynamodb, names.quarantine_table)
    store.put(
        entry_for(InvalidUserIdError("orders", "big", "x"), names.source_table("orders"), {"orderId": "big"}, "1", "r")
    )
    # When the (now transformable, still too large) order is re-driven
    result = Redriver(clients.dynamodb, names).redrive(store.get("orders", "big"))
    # Then it stays quarantined, now as write_rejected, and nothing was written
    assert result.outcome is Redriven.STILL_BAD and result.reason == "write_rejected"
    assert store.get("orders", "big").reason == "write_rejected" and store.get("orders", "big").status == OPEN
    assert _v3_keys(settings, clients) == set()


def test_repair_of_an_item_dynamodb_refuses_quarantines_it_instead_of_raising(env):
    settings, clients = env
    names = settings.names
    _orders(settings, clients, _huge())
    checker = Checker(clients.dynamodb, Tables.from_names(names), DifferenceSink(None), repair=True)
    # When reconcile --repair finds it missing in v3 and tries to write it
    checker.confirm_legacy("orders", "big")
    # Then it is quarantined (the contract's "or L is in quarantine"), and nothing remains to repair
    entry = QuarantineStore(clients.dynamodb, names.quarantine_table).get("orders", "big")
    assert entry.status == OPEN and entry.reason == "write_rejected"
    assert checker.sink.counts["remaining"] == 0
    # And a plain check afterwards counts it as quarantined, not as a difference
    plain = Checker(clients.dynamodb, Tables.from_names(names), DifferenceSink(None))
    plain.confirm_legacy("orders", "big")
    assert plain.sink.counts["quarantined"] == 1 and plain.sink.counts["missing"] == 0


def _aws_index_key_rule(params, model, **_):
    """Refuse a v3 PutItem whose GSI key attribute is not a non-empty S, as AWS does and moto does not.

    AWS: "Attribute values of type String and Binary must have a length greater than zero if the
    attribute is used as a key attribute for a table or index ... rejected with a ValidationException"
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html), and a value
    whose type differs from the index key schema is an index key violation ("Type mismatch for
    Index Key") (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.OnlineOps.ViolationDetection.html).
    """
    body = json.loads(params["body"])
    if not body.get("TableName", "").endswith("-v3"):
        return None
    item = body.get("Item", {})
    for name in ("email", "entityType", "timestamp"):
        if name in item and (set(item[name]) != {"S"} or item[name]["S"] == ""):
            from types import SimpleNamespace

            return SimpleNamespace(status_code=400, headers={}), {
                "Error": {"Code": "ValidationException", "Message": f"Type mismatch for Index Key {name}"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
    return None


def test_moto_accepts_a_numeric_gsi_key_that_aws_refuses(env):
    settings, clients = env
    # Given moto: a numeric `email` (key of EmailLookupIndex, type S) is accepted, unlike on AWS
    item = {"userId": "u1", "recordType": "ORDER#o1", "email": {"N": "42"}}
    clients.dynamodb.put_item(
        TableName=settings.names.v3_table,
        Item={**to_ddb({k: v for k, v in item.items() if k != "email"}), "email": item["email"]},
    )
    # When the AWS rule is installed, Then the same write is refused
    clients.dynamodb.meta.events.register("before-call.dynamodb.PutItem", _aws_index_key_rule)
    with pytest.raises(ClientError, match="ValidationException"):
        clients.dynamodb.put_item(
            TableName=settings.names.v3_table,
            Item={**to_ddb({"userId": "u1", "recordType": "ORDER#o2"}), "email": {"N": "42"}},
        )


def test_backfill_on_aws_rules_quarantines_orders_with_a_bad_email_up_front(env):
    settings, clients = env
    clients.dynamodb.meta.events.register("before-call.dynamodb.PutItem", _aws_index_key_rule)
    # Given orders whose copied `email` cannot be an EmailLookupIndex key on AWS ("" and a number)
    _orders(
        settings, clients, {"orderId": "e", "userId": "u1", "email": ""}, {"orderId": "n", "userId": "u1", "email": 42}
    )
    # When backfill runs under AWS's rules, Then nothing is refused: the transform quarantined both first
    summary = run_backfill(settings, clients, tables=("orders",), segments=1, require_sync=False)
    assert summary.complete and summary.tables["orders"].quarantined == 2
    store = QuarantineStore(clients.dynamodb, settings.names.quarantine_table)
    assert {store.get("orders", k).reason for k in ("e", "n")} == {"invalid_index_key"}
    assert from_ddb(json.loads(json.dumps(store.get("orders", "n").raw)))["email"] == 42


def test_backfill_does_not_leave_an_open_entry_for_an_item_fixed_and_replicated_meanwhile(env):
    settings, clients = env
    names = settings.names
    bad = {"userId": "u1", "email": 42}
    good = {"userId": "u1", "email": "fixed@b"}
    clients.dynamodb.put_item(TableName=names.source_table("users"), Item=to_ddb(bad))
    app = Clients(settings).dynamodb
    store = QuarantineStore(app, names.quarantine_table)
    fired = []

    def fix_and_replicate(params, **_):
        if not fired and json.loads(params["body"]).get("TableName") == names.quarantine_table:
            from replicator.apply import apply_plan
            from replicator.changes import Change, plan
            from replicator.v3_writer import V3Writer

            fired.append(1)
            app.put_item(TableName=names.source_table("users"), Item=to_ddb(good))
            change = Change("users", "MODIFY", {"userId": "u1"}, bad, good, "5")
            apply_plan(plan(change), V3Writer(app, names.v3_table), store, names.source_table("users"))

    # Given backfill scanned the bad item, and its fix is replicated just before backfill quarantines it
    clients.dynamodb.meta.events.register("before-call.dynamodb.PutItem", fix_and_replicate)
    run_backfill(settings, clients, tables=("users",), segments=1, require_sync=False)
    # Then no open entry is left for the good item (it would block the flip for nothing)
    entry = store.get("users", "u1")
    assert fired and entry is not None and entry.status != OPEN
