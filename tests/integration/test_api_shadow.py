"""Shadow comparison and v3 e-mail lookups against the moto server, through the real resolver."""

from __future__ import annotations

import io
import json
import logging
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from aws_lambda_powertools import Logger
from flag_owner import set_read_source  # tests/ is on sys.path

from app_handlers.api import handle
from app_handlers.context import AppConfig, build_context
from app_handlers.model_base import Connection
from app_handlers.v3_source import V3Source
from cutover.clients import Clients
from cutover.codec import to_ddb
from cutover.settings import Settings
from cutover_cli.http_bridge import to_event
from cutover_cli.local_backend import init_backend
from migrations.seed.transform import transform
from replicator.v3_writer import V3Writer

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def world(moto_server):
    settings = Settings(service=f"sh{uuid.uuid4().hex[:8]}", region="us-east-1", endpoint_url=moto_server.endpoint_url)
    clients = Clients(settings)
    init_backend(settings, clients)
    set_read_source(settings, clients, "shadow")
    return settings, clients


@pytest.fixture
def logs():
    return io.StringIO()


@pytest.fixture
def ctx(world, logs):
    settings, clients = world
    logger = Logger(service=f"sh-{uuid.uuid4().hex[:6]}", logger_handler=logging.StreamHandler(logs))
    return build_context(AppConfig.from_settings(settings, cache_seconds=0), clients, logger=logger, shadow_timeout=2.0)


def _events(logs, metric: str) -> list[dict]:
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    return [e for e in lines if e.get("metric") == metric]


def _get(ctx, path: str):
    resp = handle(to_event("GET", path, {}, None), None, ctx)
    return resp["statusCode"], json.loads(resp["body"])


def _legacy(world, table: str, item: dict) -> None:
    settings, clients = world
    clients.dynamodb.put_item(TableName=settings.names.source_table(table), Item=to_ddb(item))


def _v3(world, item: dict, ref: str) -> None:
    settings, clients = world
    V3Writer(clients.dynamodb, settings.names.v3_table).put(item, "5", ref)


def test_a_wrong_amount_is_a_mismatch_even_beside_a_quarantined_order(world, ctx, logs):
    # Given a user with a quarantined order (unparseable createdAt, so not in v3) and an order
    # whose amount v3 holds wrongly
    uid = f"u-{uuid.uuid4().hex[:8]}"
    user = {"userId": uid, "email": f"{uid}@example.com"}
    bad = {"orderId": f"{uid}-bad", "userId": uid, "amount": Decimal(1), "createdAt": "not a date"}
    good = {"orderId": f"{uid}-ok", "userId": uid, "amount": Decimal(5)}
    for table, item in (("users", user), ("orders", bad), ("orders", good)):
        _legacy(world, table, item)
    _v3(world, transform("users", user)[0], f"users#{uid}")
    _v3(world, {**transform("orders", good)[0], "amount": Decimal(6)}, f"orders#{good['orderId']}")
    # When the order list is read in shadow mode
    assert _get(ctx, f"/users/{uid}/orders")[0] == 200
    # Then the wrong amount is a mismatch naming the order, and only the quarantined order is uncomparable
    assert [e["differing"] for e in _events(logs, "ShadowMismatch")] == [[f"{uid}-ok:amount"]]
    assert [e["differing"] for e in _events(logs, "ShadowUncomparable")] == [[f"{uid}-bad:<missing in v3>"]]


def test_an_email_only_v3_finds_is_an_expected_improvement(world, ctx, logs):
    # Given a legacy user whose e-mail was stored untidily, and its replicated v3 profile
    uid = f"u-{uuid.uuid4().hex[:8]}"
    user = {"userId": uid, "email": f" {uid.upper()}@Example.COM ", "name": "Ann"}
    _legacy(world, "users", user)
    _v3(world, transform("users", user)[0], f"users#{uid}")
    # When it is looked up by its normalised e-mail in shadow mode (legacy's index misses it)
    assert _get(ctx, f"/users?email={uid}@example.com")[0] == 404  # legacy is served
    # Then no mismatch: an expected improvement, counted as its own metric with the key
    assert ctx.telemetry.counts["ShadowMismatch"] == 0
    assert [e["keys"] for e in _events(logs, "ShadowEmailImprovement")] == [{"email": f"{uid}@example.com"}]


def test_an_email_only_v3_finds_but_with_other_data_is_still_a_mismatch(world, ctx):
    # Given the same untidy legacy user, but v3 holding another name
    uid = f"u-{uuid.uuid4().hex[:8]}"
    user = {"userId": uid, "email": f" {uid}@Example.COM", "name": "Ann"}
    _legacy(world, "users", user)
    _v3(world, {**transform("users", user)[0], "name": "Anne"}, f"users#{uid}")
    # When looked up by the normalised e-mail, Then it is a mismatch, not an improvement
    _get(ctx, f"/users?email={uid}@example.com")
    assert ctx.telemetry.counts["ShadowMismatch"] == 1 and ctx.telemetry.counts["ShadowEmailImprovement"] == 0


def test_v3_email_lookup_rechecks_the_email_after_the_consistent_read(world, monkeypatch):
    # Given a v3 profile whose e-mail changed, and a keys-only index that still returns it for the old
    # e-mail (GSIs are eventually consistent: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html)
    settings, clients = world
    uid = f"u-{uuid.uuid4().hex[:8]}"
    _v3(world, transform("users", {"userId": uid, "email": f"new-{uid}@example.com"})[0], f"users#{uid}")
    source = V3Source(settings.names.v3_table, Connection.from_clients(clients))
    monkeypatch.setattr(source._model.email_index, "query", lambda *a, **k: [SimpleNamespace(userId=uid)])
    # When looking up the old e-mail, Then nobody is found
    assert source.find_by_email(f"old-{uid}@example.com") is None
    # And the current e-mail still finds the user
    assert source.find_by_email(f"NEW-{uid}@example.com")["userId"] == uid
