"""The gate reads the shadow phase (issue 19, hole 7): the operator trial's two cases and the rule.

Through the real entry points against the moto server: `cutover sync/backfill/reconcile/flip` by
the CLI, shadow reads by the API's handler (`app_handlers.api.handle`, its real recorder writing
to the API table). Every other piece of evidence is complete (real backfill and reconcile).
"""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from aws_lambda_powertools import Logger
from flag_owner import read_source  # tests/ is on sys.path
from shadow_world import shadow_phase_done
from test_flip_interlock import _cli, fresh, module_backend  # same directory: on sys.path

from app_handlers.api import handle
from app_handlers.context import AppConfig, build_context
from cutover.codec import to_ddb
from cutover_cli.http_bridge import to_event

pytestmark = pytest.mark.server
USERS = 3


@pytest.fixture(scope="module")
def backend(moto_server):
    return module_backend(moto_server, "shg")


@pytest.fixture(scope="module")
def synced(backend, tmp_path_factory):
    """Legacy users synced and backfilled (by the CLI), once for the module."""
    settings, clients = fresh(*backend)
    uids = [f"u{uuid.uuid4().hex[:6]}{i}" for i in range(USERS)]
    for uid in uids:
        user = {"userId": uid, "email": f"{uid}@example.com", "name": f"N{uid}"}
        clients.dynamodb.put_item(TableName=settings.names.source_table("users"), Item=to_ddb(user))
    for step in (("sync", "--once"), ("backfill", "--table", "all", "--quiet")):
        code, out = _cli(settings, *step)
        assert code == 0, (step, out)
    return settings, clients, uids


@pytest.fixture
def world(synced, tmp_path):
    """... reconciled clean by a full `reconcile --repair` (it mends what an earlier test tampered
    with, and explains its mismatches), then reads on shadow by `cutover flip shadow` just now."""
    settings, clients, uids = synced
    assert _cli(settings, "flip", "legacy")[0] == 0
    code, out = _cli(settings, "reconcile", "--quiet", "--repair", "--report", str(tmp_path / "r.json"))
    assert code == 0, out
    assert _cli(settings, "flip", "shadow")[0] == 0
    return settings, clients, uids


def _api(settings, clients):
    logs = io.StringIO()
    logger = Logger(service=f"shg-{uuid.uuid4().hex[:6]}", logger_handler=logging.StreamHandler(logs))
    ctx = build_context(AppConfig.from_settings(settings, cache_seconds=0), clients, logger=logger, shadow_timeout=5.0)
    return ctx, logs


def _read_all(ctx, uids) -> None:
    """Every kind of read the API has, on every user; then wait for the recorder's flush."""
    for uid in uids:
        for path in (f"/users/{uid}", f"/users?email={uid}@example.com", f"/users/{uid}/orders"):
            assert handle(to_event("GET", path, {}, None), None, ctx)["statusCode"] == 200, path
    ctx.shadow.drain()


def _flip_v3(settings, clients, *extra: str):
    assert _cli(settings, "sync", "--once")[0] == 0  # lag ~0 now
    return _cli(settings, "flip", "v3", *extra)


def _tamper(settings, clients, uid: str) -> None:
    """v3's name changed behind replication's back (the trial's tampered value)."""
    clients.dynamodb.update_item(
        TableName=settings.names.v3_table,
        Key=to_ddb({"userId": uid, "recordType": "PROFILE"}),
        UpdateExpression="SET #n = :v",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues=to_ddb({":v": "tampered"}),
    )


def test_v3_is_refused_seconds_into_shadow_with_too_few_comparisons(world):
    # Given reads on shadow for a few seconds, each kind of read compared on 3 users (the trial)
    settings, clients, uids = world
    ctx, _ = _api(settings, clients)
    _read_all(ctx, uids)
    # When flipping to v3
    code, out = _flip_v3(settings, clients)
    # Then it is refused for the time on shadow and for every kind of read's distinct keys
    assert code == 1 and read_source(settings, clients) == "shadow", out
    assert "reads have been on shadow for" in out and "under the 900 s minimum" in out
    for op in ("find_by_email", "get_user", "orders_of"):
        assert f"shadow reads compared {op} on {USERS} distinct key(s) ({USERS} comparison(s))" in out, out
    # And `status --json` shows the counts per kind of read and outcome
    status = json.loads(_cli(settings, "status", "--json")[1])["shadow"]
    assert status["reads"]["get_user"] == {
        "match": USERS, "mismatch": 0, "expected": 0, "uncomparable": 0, "skipped": 0, "error": 0, "keys": USERS
    }  # fmt: skip
    # And lowering both minimums is an override that needs a reason, recorded as forced
    loosen = ("--min-shadow-seconds", "0", "--min-shadow-keys", str(USERS))
    assert _flip_v3(settings, clients, *loosen)[0] == 2
    code, out = _flip_v3(settings, clients, *loosen, "--reason", "three users in this stage")
    assert code == 0 and "limit min_shadow_keys loosened" in out and read_source(settings, clients) == "v3", out


def test_v3_is_refused_after_a_mismatch_no_later_reconcile_explains(world, tmp_path):
    # Given a long shadow phase with enough comparisons, then a tampered name read by the API
    settings, clients, uids = world
    shadow_phase_done(settings, clients)
    _tamper(settings, clients, uids[0])
    ctx, _ = _api(settings, clients)
    assert handle(to_event("GET", f"/users/{uids[0]}", {}, None), None, ctx)["statusCode"] == 200
    ctx.shadow.drain()
    # When flipping to v3 (the last reconcile, clean, started before the mismatch)
    code, out = _flip_v3(settings, clients)
    # Then it is refused naming the read, the key and the attribute, and reads stay on shadow
    assert code == 1 and read_source(settings, clients) == "shadow", out
    assert f"1 unexplained mismatch(es) (get_user userId={uids[0]} on name at" in " ".join(out.split()), out
    # When a full `reconcile --repair` starts after it (it repairs the name) and ends clean
    assert _cli(settings, "reconcile", "--quiet", "--repair", "--report", str(tmp_path / "r2.json"))[0] == 0
    # Then the mismatch is explained and the flip is allowed
    code, out = _flip_v3(settings, clients)
    assert (code, out.strip()) == (0, "read-source: shadow -> v3"), out


def test_a_clean_reconcile_that_started_before_the_mismatch_does_not_explain_it(world, tmp_path):
    # Given a long shadow phase, and a clean full reconcile that STARTED before a mismatch
    settings, clients, uids = world
    shadow_phase_done(settings, clients)
    from cutover.state import RECONCILE, ReportStore

    reports = ReportStore(clients.dynamodb, settings.names.reports_table)
    running = reports.latest(RECONCILE)
    _tamper(settings, clients, uids[1])
    ctx, _ = _api(settings, clients)
    handle(to_event("GET", f"/users/{uids[1]}", {}, None), None, ctx)
    ctx.shadow.drain()
    # ... and finished (clean) after it: it may have read that user before the change
    from cutover.clock import utc_now

    reports.record(RECONCILE, {**running, "finished_at": utc_now()}, at=running["started_at"], run_id="late")
    # When flipping to v3, Then it is refused for the mismatch
    code, out = _flip_v3(settings, clients)
    assert code == 1 and "unexplained mismatch(es) (get_user" in out, out
    assert "the last reconcile" not in out, out  # that reconcile itself satisfies every other rule


def test_a_recording_failure_does_not_fail_the_read(world):
    # Given the API's shadow evidence cannot be written (its table is gone)
    settings, clients, uids = world
    ctx, logs = _api(settings, clients)
    clients.dynamodb.delete_table(TableName=settings.names.api_table)
    try:
        # When a shadow read is served
        resp = handle(to_event("GET", f"/users/{uids[0]}", {}, None), None, ctx)
        ctx.shadow.drain()
    finally:
        from cutover_cli.local_backend import init_backend

        init_backend(settings, clients)
    # Then legacy's answer is served, and the failure is logged and counted, naming the fix
    assert resp["statusCode"] == 200 and json.loads(resp["body"])["userId"] == uids[0]
    assert ctx.telemetry.counts["ShadowRecordFailed"] == 1
    failed = [json.loads(x) for x in logs.getvalue().splitlines() if '"ShadowRecordFailed"' in x]
    assert "dynamodb:UpdateItem" in failed[0]["message"] and failed[0]["level"] == "ERROR"
