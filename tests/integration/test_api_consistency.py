"""Writes through the API: read-your-writes in every mode, atomic e-mail uniqueness, conditional orders.

Against the moto server, through the real resolver. Replication lag is modelled by simply not
replicating: v3 keeps what it held before the write.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import uuid

import pytest
from aws_lambda_powertools import Logger
from flag_owner import set_read_source  # tests/ is on sys.path

from app_handlers.api import SOURCE_HEADER, handle
from app_handlers.context import AppConfig, build_context
from app_handlers.errors import Conflict
from app_handlers.schemas import CreateUser
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
    settings = Settings(service=f"wr{uuid.uuid4().hex[:8]}", region="us-east-1", endpoint_url=moto_server.endpoint_url)
    clients = Clients(settings)
    init_backend(settings, clients)
    return settings, clients


def _ctx(world):
    settings, clients = world
    logger = Logger(service=f"wr-{uuid.uuid4().hex[:6]}", logger_handler=logging.StreamHandler(io.StringIO()))
    return build_context(AppConfig.from_settings(settings, cache_seconds=0), clients, logger=logger, shadow_timeout=2.0)


@pytest.fixture
def ctx(world):
    return _ctx(world)


def _seed(world, user: dict, orders: tuple[dict, ...] = ()) -> None:
    """Legacy and, as replication would, v3."""
    settings, clients = world
    n = settings.names
    writer = V3Writer(clients.dynamodb, n.v3_table)
    clients.dynamodb.put_item(TableName=n.source_table("users"), Item=to_ddb(user))
    writer.fill(transform("users", user)[0], f"users#{user['userId']}")
    for order in orders:
        clients.dynamodb.put_item(TableName=n.source_table("orders"), Item=to_ddb(order))
        writer.fill(transform("orders", order)[0], f"orders#{order['orderId']}")


def _flag(world, value: str) -> None:
    settings, clients = world
    set_read_source(settings, clients, value)


def _call(ctx, method: str, path: str, body: dict | None = None):
    raw = json.dumps(body).encode() if body is not None else None
    resp = handle(to_event(method, path, {}, raw), None, ctx)
    headers = {k: v[0] for k, v in (resp.get("multiValueHeaders") or {}).items()} | (resp.get("headers") or {})
    return resp["statusCode"], json.loads(resp["body"]), headers.get(SOURCE_HEADER)


def _uid() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


# --- 1. read your own writes ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["legacy", "shadow", "v3"])
def test_a_new_order_is_listed_at_once_in_every_mode(world, ctx, mode):
    # Given a replicated user with one order, and the flag at `mode`
    uid = _uid()
    _seed(world, {"userId": uid, "email": f"{uid}@example.com"}, ({"orderId": f"{uid}-1", "userId": uid},))
    _flag(world, mode)
    # When a second order is placed through the API (not yet replicated)
    status, order, _ = _call(ctx, "POST", "/orders", {"userId": uid, "amount": 2, "orderId": f"{uid}-2"})
    assert status == 201
    # Then the order list read right after shows both orders
    status, body, _ = _call(ctx, "GET", f"/users/{uid}/orders")
    assert status == 200 and [o["orderId"] for o in body["orders"]] == [f"{uid}-1", f"{uid}-2"]


@pytest.mark.parametrize("mode", ["legacy", "shadow", "v3"])
def test_a_user_deleted_and_registered_again_reads_back_as_registered(world, ctx, mode):
    # Given a replicated user, deleted at the source (the delete not yet replicated)
    settings, clients = world
    uid = _uid()
    _seed(world, {"userId": uid, "email": f"old-{uid}@example.com", "name": "Old"})
    clients.dynamodb.delete_item(TableName=settings.names.source_table("users"), Key=to_ddb({"userId": uid}))
    _flag(world, mode)
    # When the same userId is registered again with another e-mail and name
    status, created, _ = _call(ctx, "POST", "/users", {"userId": uid, "email": f"new-{uid}@example.com", "name": "New"})
    assert status == 201
    # Then every read returns what that write stored, not v3's stale profile
    assert _call(ctx, "GET", f"/users/{uid}")[:2] == (200, created)
    assert _call(ctx, "GET", f"/users?email=new-{uid}@example.com")[:2] == (200, created)
    assert _call(ctx, "GET", f"/users?email=old-{uid}@example.com")[0] == 404


def test_v3_serves_again_once_replication_caught_up(world, ctx):
    # Given a user registered through the API at v3 and read through legacy while v3 lags
    settings, clients = world
    _flag(world, "v3")
    status, created, _ = _call(ctx, "POST", "/users", {"email": f"{_uid()}@example.com", "name": "Cat"})
    uid = created["userId"]
    assert status == 201 and _call(ctx, "GET", f"/users/{uid}")[2] == "legacy"
    # When replication delivers the write to v3
    legacy = clients.dynamodb.get_item(TableName=settings.names.source_table("users"), Key=to_ddb({"userId": uid}))[
        "Item"
    ]
    replicated = transform("users", from_ddb(legacy))[0]
    V3Writer(clients.dynamodb, settings.names.v3_table).put(replicated, "5", f"users#{uid}")
    # Then the next reads are served by v3 (the read-through ends when v3 reflects the write)
    assert _call(ctx, "GET", f"/users/{uid}")[:3] == (200, created, "legacy")
    assert _call(ctx, "GET", f"/users/{uid}")[:3] == (200, created, "v3")


# --- 2. e-mail uniqueness ----------------------------------------------------------------------------


def test_concurrent_registrations_of_one_email_create_one_user(world):
    # Given two API instances whose pre-checks both run before either writes (as concurrent Lambdas can)
    email = f"{_uid()}@example.com"
    contexts = [_ctx(world), _ctx(world)]
    barrier = threading.Barrier(2, timeout=10)
    for c in contexts:
        real = c.writes._email_taken

        def gated(e, real=real):
            taken = real(e)
            barrier.wait()
            return taken

        c.writes._email_taken = gated
    results: list[object] = []

    def register(c, typed):
        try:
            results.append(c.writes.register_user(CreateUser(email=typed, name="Twin")))
        except Conflict as exc:
            results.append(exc)

    # When both register the same e-mail (typed differently) at the same time
    threads = [
        threading.Thread(target=register, args=(c, typed))
        for c, typed in zip(contexts, (email, f"  {email.upper()} "), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    # Then exactly one is created and the other is a conflict
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "dict"]


def test_a_lagging_email_index_does_not_let_a_duplicate_through(world, ctx):
    # Given a user registered through the API, and e-mail indexes that have not caught up yet
    # (GSI queries are eventually consistent: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html)
    email = f"{_uid()}@example.com"
    assert _call(ctx, "POST", "/users", {"email": email, "name": "First"})[0] == 201
    ctx.writes._email_taken = lambda e: False
    # When the same e-mail, typed with other case and spaces, is registered again
    status, body, _ = _call(ctx, "POST", "/users", {"email": f" {email.upper()}", "name": "Second"})
    # Then 409 naming the e-mail
    assert status == 409 and email in body["message"]


def test_an_email_freed_by_a_source_delete_can_be_registered_again(world, ctx):
    # Given a user registered through the API, then deleted at the source
    settings, clients = world
    email = f"{_uid()}@example.com"
    status, first, _ = _call(ctx, "POST", "/users", {"email": email, "name": "Gone"})
    assert status == 201
    clients.dynamodb.delete_item(
        TableName=settings.names.source_table("users"), Key=to_ddb({"userId": first["userId"]})
    )
    # When another user registers that e-mail, Then it is created (the stale claim is taken over)
    status, second, _ = _call(ctx, "POST", "/users", {"email": email, "name": "New"})
    assert status == 201 and second["userId"] != first["userId"]
    # And the e-mail is now taken again
    assert _call(ctx, "POST", "/users", {"email": email, "name": "Third"})[0] == 409


@pytest.mark.parametrize("changed_to,status", [("other@example.com", 201), (" {EMAIL} ", 409)])
def test_a_claim_is_taken_over_only_if_its_owner_gave_the_email_up(world, ctx, changed_to, status):
    # Given a user registered through the API whose e-mail was then rewritten outside the API
    settings, clients = world
    email = f"{_uid()}@example.com"
    _, first, _ = _call(ctx, "POST", "/users", {"email": email, "name": "First"})
    rewritten = {**first, "email": changed_to.replace("{EMAIL}", email.upper())}
    clients.dynamodb.put_item(TableName=settings.names.source_table("users"), Item=to_ddb(rewritten))
    # When another user registers the e-mail
    got = _call(ctx, "POST", "/users", {"email": email, "name": "Second"})[0]
    # Then it is created if the owner now has another e-mail, and a conflict if it is the same one, untidy
    assert got == status


# --- 4. conditional writes ---------------------------------------------------------------------------


def test_an_order_for_a_user_deleted_after_the_check_is_refused(world, ctx):
    # Given a user that the existence check still sees, but that is gone when the order is written
    settings, clients = world
    uid = _uid()
    legacy = ctx.writes._legacy
    legacy.get_user = lambda user_id: {"userId": user_id}
    # When an order is placed for it
    status, body, _ = _call(ctx, "POST", "/orders", {"userId": uid, "amount": 1, "orderId": f"{uid}-o"})
    # Then 404 naming the user, and no order without a user is left behind
    assert status == 404 and uid in body["message"]
    stored = clients.dynamodb.get_item(
        TableName=settings.names.source_table("orders"), Key=to_ddb({"orderId": f"{uid}-o"})
    )
    assert "Item" not in stored


def test_a_duplicate_order_id_is_a_conflict(world, ctx):
    uid = _uid()
    _seed(world, {"userId": uid, "email": f"{uid}@example.com"})
    assert _call(ctx, "POST", "/orders", {"userId": uid, "amount": 1, "orderId": f"{uid}-o"})[0] == 201
    status, body, _ = _call(ctx, "POST", "/orders", {"userId": uid, "amount": 1, "orderId": f"{uid}-o"})
    assert status == 409 and f"{uid}-o" in body["message"]


def test_losing_a_race_on_an_explicit_user_id_is_a_conflict(world, ctx):
    # Given a userId taken after the existence check ran
    uid = _uid()
    _seed(world, {"userId": uid, "email": f"{uid}@example.com"})
    ctx.writes._legacy.get_user = lambda user_id: None
    # When it is registered, Then 409 naming the userId (not 503 "retry shortly")
    status, body, _ = _call(ctx, "POST", "/users", {"userId": uid, "email": f"x-{uid}@example.com", "name": "X"})
    assert status == 409 and uid in body["message"]
