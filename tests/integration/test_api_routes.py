"""Every route and every flag value, through the real resolver, against the moto server."""

from __future__ import annotations

import io
import json
import logging
import uuid
from decimal import Decimal

import pytest
from aws_lambda_powertools import Logger
from flag_owner import set_read_source  # tests/ is on sys.path

from app_handlers.api import SOURCE_HEADER, handle
from app_handlers.context import AppConfig, build_context
from cutover.clients import Clients
from cutover.codec import to_ddb
from cutover.settings import Settings
from cutover_cli.http_bridge import to_event
from cutover_cli.local_backend import init_backend
from migrations.seed.transform import transform
from replicator.v3_writer import V3Writer

pytestmark = pytest.mark.server

ANN = {"userId": "u1", "email": " Ann@Example.COM ", "name": "Ann", "createdAt": Decimal(1600000000)}
ORDER = {"orderId": "o1", "userId": "u1", "amount": Decimal("12.50"), "createdAt": "2020-01-01T10:00:00+02:00"}


def _seed(settings: Settings, clients: Clients, user: dict, orders: tuple[dict, ...] = ()) -> None:
    """Write `user` and `orders` to legacy and, as replication would, to v3."""
    n = settings.names
    writer = V3Writer(clients.dynamodb, n.v3_table)
    clients.dynamodb.put_item(TableName=n.source_table("users"), Item=to_ddb(user))
    writer.fill(transform("users", user)[0], f"users#{user['userId']}")
    for order in orders:
        clients.dynamodb.put_item(TableName=n.source_table("orders"), Item=to_ddb(order))
        writer.fill(transform("orders", order)[0], f"orders#{order['orderId']}")


@pytest.fixture(scope="module")
def world(moto_server):
    """One backend for the module (table creation is the slow part): ANN and ORDER everywhere.
    Tests that change data use their own users; every test sets the flag it needs."""
    settings = Settings(service=f"api{uuid.uuid4().hex[:8]}", region="us-east-1", endpoint_url=moto_server.endpoint_url)
    clients = Clients(settings)
    init_backend(settings, clients)
    _seed(settings, clients, ANN, (ORDER,))
    return settings, clients


def _user(settings, clients, **extra) -> str:
    user_id = f"u-{uuid.uuid4().hex[:8]}"
    _seed(settings, clients, {"userId": user_id, "email": f"{user_id}@example.com", "name": "X", **extra})
    return user_id


def _flag(settings, clients, value: str) -> None:
    set_read_source(settings, clients, value)


def _call(ctx, method: str, path: str, body: str | None = None):
    resp = handle(to_event(method, path, {}, body.encode() if body else None), None, ctx)
    headers = {k: v[0] for k, v in (resp.get("multiValueHeaders") or {}).items()} | (resp.get("headers") or {})
    return resp["statusCode"], json.loads(resp["body"]), headers.get(SOURCE_HEADER)


@pytest.fixture
def logs():
    return io.StringIO()


@pytest.fixture
def ctx(world, logs):
    """A fresh handler context (counters at zero) whose structured logs go to `logs`."""
    settings, clients = world
    logger = Logger(service=f"api-test-{uuid.uuid4().hex[:6]}", logger_handler=logging.StreamHandler(logs))
    return build_context(AppConfig.from_settings(settings, cache_seconds=0), clients, logger=logger, shadow_timeout=2.0)


def _log_lines(logs: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]


@pytest.mark.parametrize("mode,served_by", [("legacy", "legacy"), ("shadow", "legacy"), ("v3", "v3")])
def test_every_read_route_gives_the_same_answer_in_every_mode(world, ctx, mode, served_by):
    # Given the flag set to `mode`
    _flag(*world, mode)
    # When each read route is called
    user = _call(ctx, "GET", "/users/u1")
    by_email = _call(ctx, "GET", "/users?email=%20Ann@Example.COM%20")
    orders = _call(ctx, "GET", "/users/u1/orders")
    # Then the answers are the common shape, served by the expected source, with no mismatch
    expected_user = {"userId": "u1", "email": "ann@example.com", "name": "Ann", "createdAt": "2020-09-13T12:26:40.000Z"}
    assert user == (200, expected_user, served_by)
    assert by_email == (200, expected_user, served_by)
    assert orders[0] == 200 and orders[2] == served_by
    assert orders[1] == {
        "userId": "u1",
        "orders": [{"orderId": "o1", "userId": "u1", "amount": 12.5, "createdAt": "2020-01-01T08:00:00.000Z"}],
    }
    assert ctx.telemetry.counts["ShadowMismatch"] == 0 and ctx.telemetry.counts["V3Fallback"] == 0


@pytest.mark.parametrize("mode", ["legacy", "shadow", "v3"])
def test_absent_user_is_404_in_every_mode(world, ctx, mode):
    _flag(*world, mode)
    assert _call(ctx, "GET", "/users/nobody")[0] == 404
    assert _call(ctx, "GET", "/users/nobody/orders")[0] == 404
    assert _call(ctx, "GET", "/users?email=nobody@example.com")[0] == 404


def test_shadow_mismatch_is_counted_and_logged_with_keys_and_attributes(world, ctx, logs):
    # Given v3 holds a different name for a user than legacy
    settings, clients = world
    uid = _user(settings, clients, name="Ann")
    V3Writer(clients.dynamodb, settings.names.v3_table).put(
        {"userId": uid, "recordType": "PROFILE", "entityType": "USER", "email": f"{uid}@example.com", "name": "Anne"},
        "9",
        f"users#{uid}",
    )
    _flag(settings, clients, "shadow")
    # When the user is read in shadow mode
    status, body, source = _call(ctx, "GET", f"/users/{uid}")
    # Then legacy is served, and the mismatch is counted and logged with the key and the attribute
    assert (status, body["name"], source) == (200, "Ann", "legacy")
    assert ctx.telemetry.counts["ShadowMismatch"] == 1
    mismatch = [entry for entry in _log_lines(logs) if entry.get("metric") == "ShadowMismatch"]
    assert mismatch and mismatch[0]["keys"] == {"userId": uid} and mismatch[0]["differing"] == ["name"]


def test_shadow_does_not_count_a_quarantined_legacy_record_as_a_mismatch(world, ctx):
    # Given a legacy user the transform rejects (numeric email): it is in quarantine, not v3
    settings, clients = world
    uid = f"u-{uuid.uuid4().hex[:8]}"
    clients.dynamodb.put_item(
        TableName=settings.names.source_table("users"), Item=to_ddb({"userId": uid, "email": Decimal(5)})
    )
    _flag(settings, clients, "shadow")
    # When read in shadow mode, Then legacy serves it as stored and it is not a mismatch
    assert _call(ctx, "GET", f"/users/{uid}")[:2] == (200, {"userId": uid, "email": 5})
    assert ctx.telemetry.counts["ShadowMismatch"] == 0 and ctx.telemetry.counts["ShadowUncomparable"] == 1


def test_shadow_survives_a_broken_v3(world):
    # Given a context whose v3 table does not exist
    settings, clients = world
    config = AppConfig.from_settings(settings, cache_seconds=0)
    broken = build_context(
        AppConfig(
            config.users_table,
            config.orders_table,
            "no-such-table",
            config.reports_table,
            0,
            settings,
        ),
        clients,
    )
    _flag(settings, clients, "shadow")
    # When reading in shadow mode, Then legacy is served and the v3 error is only counted
    assert _call(broken, "GET", "/users/u1")[:2] == (
        200,
        {"userId": "u1", "email": "ann@example.com", "name": "Ann", "createdAt": "2020-09-13T12:26:40.000Z"},
    )
    assert broken.telemetry.counts["ShadowV3Error"] == 1


def test_v3_miss_falls_back_to_legacy_right_after_a_write(world, ctx):
    # Given the flag at v3 and a user written to legacy but not (yet) replicated
    _flag(*world, "v3")
    created = _call(ctx, "POST", "/users", json.dumps({"email": "new@example.com", "name": "New"}))
    assert created[0] == 201
    # When it is read back at once, Then it is served by legacy, not a 404, and the fallback counted
    status, body, source = _call(ctx, "GET", f"/users/{created[1]['userId']}")
    assert (status, body["email"], source) == (200, "new@example.com", "legacy")
    assert ctx.telemetry.counts["V3Fallback"] == 1


def test_tombstoned_v3_item_is_treated_as_absent(world, ctx):
    # Given a user tombstoned in v3 but (still) present in legacy
    settings, clients = world
    uid = _user(settings, clients)
    V3Writer(clients.dynamodb, settings.names.v3_table).tombstone((uid, "PROFILE"), "9", f"users#{uid}")
    _flag(settings, clients, "v3")
    # When read at v3, Then the tombstone is a miss: legacy answers (fallback)
    assert _call(ctx, "GET", f"/users/{uid}")[2] == "legacy"
    assert ctx.telemetry.counts["V3Fallback"] == 1
    # And when legacy deleted it too, Then 404
    clients.dynamodb.delete_item(TableName=settings.names.source_table("users"), Key=to_ddb({"userId": uid}))
    assert _call(ctx, "GET", f"/users/{uid}")[0] == 404


@pytest.mark.parametrize("value", ["V4", "", " bogus"])
def test_unknown_flag_value_fails_safe_to_legacy(world, ctx, value, logs):
    settings, clients = world
    set_read_source(settings, clients, value or " ")
    assert _call(ctx, "GET", "/users/u1")[2] == "legacy"
    assert ctx.telemetry.counts["FlagInvalid"] == 1
    assert [e["level"] for e in _log_lines(logs) if e.get("metric") == "FlagInvalid"] == ["ERROR"]


def test_an_unknown_flag_value_refuses_writes_and_serves_reads_from_legacy(world, ctx):
    # Given the flag holds a value this version does not know (a later phase may send writes elsewhere)
    settings, clients = world
    set_read_source(settings, clients, "dual-write")
    try:
        # When a user is registered, Then it is refused in one line naming the flag and the fix; nothing written
        status, body, _ = _call(ctx, "POST", "/users", json.dumps({"email": "held@example.com", "name": "Held"}))
        assert status == 503 and "'dual-write'" in body["message"] and "cutover flip" in body["message"]
        assert "\n" not in body["message"]
        # And reads are served by legacy, the alarm counted for each
        assert _call(ctx, "GET", "/users/u1")[2] == "legacy"
        assert ctx.telemetry.counts["FlagInvalid"] == 2
    finally:
        set_read_source(settings, clients, "legacy")
    # And once the flag is known again, the write goes through
    assert _call(ctx, "POST", "/users", json.dumps({"email": "held@example.com", "name": "Held"}))[0] == 201


def test_missing_flag_fails_safe_to_legacy(world, ctx):
    # Given a flip control item that holds no read-source value (nor a flip's record)
    settings, clients = world
    clients.dynamodb.put_item(
        TableName=settings.names.reports_table, Item=to_ddb({"pk": "flip", "sk": "control", "version": 9})
    )
    try:
        assert _call(ctx, "GET", "/users/u1")[2] == "legacy"
        assert ctx.telemetry.counts["FlagInvalid"] == 1
    finally:
        _flag(settings, clients, "legacy")


def test_post_users_rejects_a_duplicate_email_however_it_was_typed(world, ctx):
    # Given legacy stores " Ann@Example.COM " (un-normalised)
    # When registering ann@example.com, Then 409
    status, body, _ = _call(ctx, "POST", "/users", json.dumps({"email": "ANN@example.com", "name": "Imposter"}))
    assert status == 409 and "ann@example.com" in body["message"]


def test_post_orders_writes_to_legacy_and_needs_an_existing_user(world, ctx):
    settings, clients = world
    status, body, source = _call(
        ctx, "POST", "/orders", json.dumps({"userId": "u1", "amount": 3.25, "currency": "EUR"})
    )
    assert (status, body["amount"], body["currency"], source) == (201, 3.25, "EUR", "legacy")
    stored = clients.dynamodb.get_item(
        TableName=settings.names.source_table("orders"), Key=to_ddb({"orderId": body["orderId"]})
    )
    assert stored["Item"]["userId"] == {"S": "u1"}
    assert _call(ctx, "POST", "/orders", json.dumps({"userId": "ghost", "amount": 1}))[0] == 404


@pytest.mark.parametrize(
    "path,body,field",
    [
        ("/users", "{not json", "body"),
        ("/users", "", "body"),
        ("/users", "[1, 2]", "body"),
        ("/users", json.dumps({"name": "No Email"}), "email"),
        ("/users", json.dumps({"email": 42, "name": "x"}), "email"),
        ("/users", json.dumps({"email": "not-an-email", "name": "x"}), "email"),
        ("/users", json.dumps({"email": "a@b.co", "name": "x", "_version": "9"}), "_version"),
        ("/orders", json.dumps({"userId": "u1"}), "amount"),
        ("/orders", json.dumps({"userId": "u1", "amount": "lots"}), "amount"),
        ("/orders", json.dumps({"userId": 7, "amount": 1}), "userId"),
        ("/orders", json.dumps({"userId": "u1", "amount": -1}), "amount"),
    ],
)
def test_bad_input_is_400_naming_the_field(ctx, path, body, field):
    status, resp, _ = _call(ctx, "POST", path, body or None)
    assert status == 400
    assert field in resp["fields"] and field in resp["message"]


def test_bad_query_and_path_parameters_are_400(ctx):
    assert _call(ctx, "GET", "/users")[:2] == (
        400,
        {"message": "query parameter email is required: GET /users?email=someone@example.com", "fields": ["email"]},
    )
    assert _call(ctx, "GET", "/users?email=nope")[1]["fields"] == ["email"]
    assert _call(ctx, "GET", "/users/" + "x" * 2049)[1]["fields"] == ["userId"]  # over DynamoDB's 2048-byte key
    assert _call(ctx, "GET", "/users/%FF")[:2] == (
        400,
        {"message": "userId: the percent-escapes in '%FF' are not UTF-8 text", "fields": ["userId"]},
    )


@pytest.mark.parametrize("mode", ["shadow", "v3"])
def test_a_deleted_order_is_gone_from_both_lists(world, ctx, mode):
    # Given a user with two orders, one deleted at the source and tombstoned in v3
    settings, clients = world
    uid = f"u-{uuid.uuid4().hex[:8]}"
    keep, gone = ({"orderId": f"{uid}-{n}", "userId": uid, "amount": Decimal(n)} for n in (1, 2))
    _seed(settings, clients, {"userId": uid, "email": f"{uid}@example.com"}, (keep, gone))
    clients.dynamodb.delete_item(
        TableName=settings.names.source_table("orders"), Key=to_ddb({"orderId": gone["orderId"]})
    )
    V3Writer(clients.dynamodb, settings.names.v3_table).tombstone(
        (uid, f"ORDER#{gone['orderId']}"), "9", f"orders#{gone['orderId']}"
    )
    _flag(settings, clients, mode)
    # When listing the user's orders, Then only the live order is listed, with no mismatch
    status, body, _ = _call(ctx, "GET", f"/users/{uid}/orders")
    assert status == 200 and [o["orderId"] for o in body["orders"]] == [keep["orderId"]]
    assert ctx.telemetry.counts["ShadowMismatch"] == 0 and ctx.telemetry.counts["V3Fallback"] == 0
