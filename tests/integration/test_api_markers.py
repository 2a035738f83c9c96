"""Read-your-writes markers through the real resolver (issue 19.5): a marker is cleared only by
evidence that v3 holds the API's write, never by legacy and v3 agreeing while legacy's own
index lags (GSI reads are eventually consistent:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html).

Replication lag is modelled by not replicating; legacy index lag by a reader that still returns
what the index showed before the write.
"""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from aws_lambda_powertools import Logger
from flag_owner import set_read_source  # tests/ is on sys.path

from app_handlers.api import SOURCE_HEADER, handle
from app_handlers.context import AppConfig, build_context
from app_handlers.ledger import Ledger, Scope, recent_key
from app_handlers.routing import Marker
from cutover.clients import Clients
from cutover.codec import from_ddb, to_ddb
from cutover.settings import Settings
from cutover_cli.http_bridge import to_event
from cutover_cli.local_backend import init_backend
from migrations.seed.transform import transform
from replicator.v3_writer import V3Writer

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def world(moto_server):
    settings = Settings(service=f"mk{uuid.uuid4().hex[:8]}", region="us-east-1", endpoint_url=moto_server.endpoint_url)
    clients = Clients(settings)
    init_backend(settings, clients)
    set_read_source(settings, clients, "v3")
    return settings, clients


@pytest.fixture
def ctx(world):
    settings, clients = world
    logger = Logger(service=f"mk-{uuid.uuid4().hex[:6]}", logger_handler=logging.StreamHandler(io.StringIO()))
    return build_context(AppConfig.from_settings(settings, cache_seconds=0), clients, logger=logger)


def _call(ctx, method: str, path: str, body: dict | None = None):
    raw = json.dumps(body).encode() if body is not None else None
    resp = handle(to_event(method, path, {}, raw), None, ctx)
    headers = {k: v[0] for k, v in (resp.get("multiValueHeaders") or {}).items()} | (resp.get("headers") or {})
    return resp["statusCode"], json.loads(resp["body"]), headers.get(SOURCE_HEADER)


def _replicate(world, role: str, key: dict) -> None:
    """What replication would write to v3 for the legacy item at `key` now."""
    settings, clients = world
    item = clients.dynamodb.get_item(TableName=settings.names.source_table(role), Key=to_ddb(key))["Item"]
    source_key = next(iter(key.values()))
    V3Writer(clients.dynamodb, settings.names.v3_table).put(
        transform(role, from_ddb(item))[0], "5", f"{role}#{source_key}"
    )


def _uid() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


def test_a_lagging_legacy_order_index_does_not_clear_the_new_orders_marker(world, ctx, monkeypatch):
    # Given a replicated user with one order, and a second order placed through the API (not replicated)
    settings, clients = world
    uid = _uid()
    user = {"userId": uid, "email": f"{uid}@example.com", "name": "Ord"}
    clients.dynamodb.put_item(TableName=settings.names.source_table("users"), Item=to_ddb(user))
    assert _call(ctx, "POST", "/orders", {"userId": uid, "amount": 1, "orderId": f"{uid}-1"})[0] == 201
    _replicate(world, "users", {"userId": uid})
    _replicate(world, "orders", {"orderId": f"{uid}-1"})
    assert _call(ctx, "POST", "/orders", {"userId": uid, "amount": 2, "orderId": f"{uid}-2"})[0] == 201
    # When the list is read while legacy's userId-index does not show the new order yet (both sides agree)
    legacy = ctx.reads._legacy
    real = legacy.list_orders
    monkeypatch.setattr(legacy, "list_orders", lambda u: [o for o in real(u) if o["orderId"] != f"{uid}-2"])
    _call(ctx, "GET", f"/users/{uid}/orders")
    monkeypatch.undo()
    # Then, the index caught up, the API's own order is still listed although v3 lacks it
    status, body, source = _call(ctx, "GET", f"/users/{uid}/orders")
    assert (status, [o["orderId"] for o in body["orders"]], source) == (200, [f"{uid}-1", f"{uid}-2"], "legacy")
    # And once v3 holds it, the marker goes and v3 serves both
    _replicate(world, "orders", {"orderId": f"{uid}-2"})
    assert _call(ctx, "GET", f"/users/{uid}/orders")[2] == "legacy"
    status, body, source = _call(ctx, "GET", f"/users/{uid}/orders")
    assert (status, [o["orderId"] for o in body["orders"]], source) == (200, [f"{uid}-1", f"{uid}-2"], "v3")


def test_a_lagging_legacy_email_index_does_not_clear_the_email_marker(world, ctx, monkeypatch):
    # Given a user written outside the API with e-mail E and replicated, then deleted at the source
    # (the delete not replicated), and another user registering E through the API
    settings, clients = world
    email, first, second = f"{_uid()}@example.com", _uid(), _uid()
    old = {"userId": first, "email": email, "name": "Old"}
    clients.dynamodb.put_item(TableName=settings.names.source_table("users"), Item=to_ddb(old))
    _replicate(world, "users", {"userId": first})
    clients.dynamodb.delete_item(TableName=settings.names.source_table("users"), Key=to_ddb({"userId": first}))
    ctx.writes._email_taken = lambda e: False  # v3's e-mail index still shows the deleted user too
    status, new, _ = _call(ctx, "POST", "/users", {"userId": second, "email": email, "name": "New"})
    assert status == 201
    # When E is looked up while legacy's email-index still shows the deleted user (as v3 does)
    monkeypatch.setattr(ctx.reads._legacy, "find_by_email", lambda e: old)
    assert _call(ctx, "GET", f"/users?email={email}")[1] == old
    monkeypatch.undo()
    # Then, the index caught up, the API's own registration is what E finds
    assert _call(ctx, "GET", f"/users?email={email}")[:3] == (200, new, "legacy")


def test_the_ledger_is_a_marker_store_and_reads_markers_from_before_evidence(world):
    # Given a marker written by an API version that recorded no `written`
    settings, clients = world
    ledger = Ledger(clients.dynamodb, settings.names.api_table)
    mark = (Scope.PROFILE, _uid())
    clients.dynamodb.put_item(TableName=ledger.table_name, Item=to_ddb({**recent_key(mark), "token": "t0"}))
    # Then it is found, with nothing to look for in v3 (so only its TTL or a newer write ends it)
    assert ledger.marked(mark) == [Marker("", "t0", None)]
    # And markers of one write per order are told apart, and each is cleared by its own token
    orders = (Scope.ORDERS, mark[1])
    for n in (1, 2):
        clients.dynamodb.transact_write_items(TransactItems=ledger.recent_puts([orders], {"orderId": f"o{n}"}, f"o{n}"))
    found = ledger.marked(orders)
    assert sorted((m.id, m.written["orderId"]) for m in found) == [("o1", "o1"), ("o2", "o2")]
    ledger.clear(orders, Marker("o1", "not-its-token", None))
    ledger.clear(orders, next(m for m in found if m.id == "o2"))
    assert [m.id for m in ledger.marked(orders)] == ["o1"]
