"""The segment Lambda: env checked at cold start (not import), stops before the timeout, resumes."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws

from cutover.codec import to_ddb
from cutover.errors import ConfigError
from cutover.names import Names


class FakeContext:
    """`get_remaining_time_in_millis` replays a script, like a clock running down."""

    def __init__(self, *remaining_ms: int) -> None:
        self.remaining = list(remaining_ms)

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining.pop(0) if len(self.remaining) > 1 else self.remaining[0]


def _env(names: Names) -> dict[str, str]:
    return {
        "SERVICE": names.service,
        "STAGE": names.stage,
        "POWERTOOLS_SERVICE_NAME": "backfill",
        "SOURCE_TABLES": json.dumps(names.source_tables()),
        "V3_TABLE": names.v3_table,
        "QUARANTINE_TABLE": names.quarantine_table,
        "CHECKPOINTS_TABLE": names.checkpoints_table,
        "REPORTS_TABLE": names.reports_table,
    }


@pytest.fixture
def lambda_tables(monkeypatch):
    """In-process moto with every table of a seed deployment and the segment Lambda's environment."""
    with mock_aws():
        import boto3

        names = Names("lam", "dev")
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        for spec in names.all_specs():
            ddb.create_table(**spec.create_table_kwargs())
        for key, value in _env(names).items():
            monkeypatch.setenv(key, value)
        yield names, ddb


@pytest.fixture
def lam(monkeypatch):
    import backfill.segment_lambda as module  # importing must not need any environment

    module.cold_start.reset()
    yield module
    module.cold_start.reset()


def test_missing_environment_fails_at_invocation_naming_every_variable(lam, monkeypatch):
    # Given no table variables, When invoked, Then one ConfigError names each missing one
    for var in ("SOURCE_TABLES", "V3_TABLE", "CHECKPOINTS_TABLE"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError) as err:
        lam.lambda_handler({"table": "users", "segment": 0, "segments": 1}, FakeContext(900_000))
    assert "SOURCE_TABLES is missing" in str(err.value) and "CHECKPOINTS_TABLE is missing" in str(err.value)


def test_stops_a_minute_before_timeout_then_a_second_invocation_finishes(lam, lambda_tables):
    names, ddb = lambda_tables
    for i in range(40):  # 60 KB each: Scan's 1 MB page limit makes several pages
        ddb.put_item(
            TableName=names.source_table("orders"),
            Item=to_ddb({"orderId": f"o{i}", "userId": "u", "pad": "x" * 60_000}),
        )
    event = {"table": "orders", "segment": 0, "segments": 1, "run_id": "sfn-1"}
    # Given 61 s left before the first page and 59 s after it (inside the 60 s safety margin)
    first = lam.lambda_handler(event, FakeContext(61_000, 59_000))
    # Then it returns unfinished after one 1 MB page, checkpointed
    assert first["done"] is False and 0 < first["counts"]["written"] < 40
    # When invoked again with plenty of time, Then it resumes and finishes the segment
    second = lam.lambda_handler(event, FakeContext(900_000))
    assert second["done"] is True and second["counts"]["written"] == 40
    assert set(second) >= {"done", "table", "segment", "segments", "counts"}


def test_a_segment_of_a_run_without_the_lease_fails_before_scanning_and_its_own_run_renews_it(lam, lambda_tables):
    from backfill.errors import LeaseHeldError
    from backfill.lease import LOCAL_TTL, BackfillLease, current_lease, local_holder
    from cutover.state import CheckpointStore

    names, ddb = lambda_tables
    ddb.put_item(TableName=names.source_table("users"), Item=to_ddb({"userId": "u1", "email": "a@x"}))
    store = CheckpointStore(ddb, names.checkpoints_table)
    # Given a local run holds the lease
    local = BackfillLease(store, local_holder("cutover backfill"), LOCAL_TTL)
    local.acquire()
    event = {"table": "users", "segment": 0, "segments": 1, "run_id": "sfn-1"}
    # When a segment of a remote run is invoked, Then it fails naming the holder and copied nothing
    with pytest.raises(LeaseHeldError, match="cutover backfill"):
        lam.lambda_handler(event, FakeContext(900_000))
    assert ddb.scan(TableName=names.v3_table)["Count"] == 0
    # When the local run released it, Then the segment takes it for its run and copies
    local.release()
    assert lam.lambda_handler(event, FakeContext(900_000))["done"] is True
    assert current_lease(store)["run_id"] == "sfn-1"


def test_malformed_event_is_rejected_with_the_field_named(lam):
    with pytest.raises(ConfigError, match="needs table, segment and segments"):
        lam.parse_event({"table": "users", "segment": "x"})


@pytest.mark.parametrize("rate", ["fast", 0, -5])
def test_a_bad_rate_is_rejected_naming_it(lam, rate):
    with pytest.raises(ConfigError, match="rate"):
        lam.parse_event({"table": "users", "segment": 0, "segments": 1, "rate": rate})


def test_the_events_rate_limits_the_segments_writes_with_the_clis_token_bucket(lam, monkeypatch):
    # Given a segment event carrying a per-segment rate (the state machine's input)
    seen = {}

    def fake_run_segment_on(tables, client, **kwargs):
        seen.update(kwargs)
        return type("R", (), {"done": True, "counts": {}, "to_dict": lambda self: {}})()

    monkeypatch.setattr(lam, "run_segment_on", fake_run_segment_on)
    monkeypatch.setattr(lam, "hold_lease", lambda rt, run_id: None)
    monkeypatch.setattr(lam.cold_start, "_value", lam.SegmentRuntime(None, None, 4, lam.Logger(service="t")))
    # When invoked, Then the writes go through a token bucket at that rate, and it is echoed back
    out = lam.lambda_handler({"table": "users", "segment": 0, "segments": 4, "rate": "250"}, FakeContext(900_000))
    assert seen["rate_limiter"].rate == 250.0 and out["rate"] == 250.0
    # And without a rate there is no limiter
    lam.lambda_handler({"table": "users", "segment": 0, "segments": 4}, FakeContext(900_000))
    assert seen["rate_limiter"] is None


def test_the_segment_runs_the_migration_its_environment_names_with_its_secret_read_at_cold_start(lam, monkeypatch):
    import hmac

    from tests.unit.test_backfill_catalog import CATALOG_SPEC, SECRET_VALUE, open_world, put, review

    with mock_aws():
        # Given the catalog's tables, its secret in SSM at the pinned version, and a review with an e-mail
        settings, clients = open_world(CATALOG_SPEC, service="lam")
        names = settings.names
        put(clients, names.source_table("reviews"), review("p1", "r1", "PUBLISHED", reviewerEmail="A@x"))
        for key, value in {**_env(names), "CUTOVER_MIGRATION": CATALOG_SPEC}.items():
            monkeypatch.setenv(key, value)
        # When the map item of the reviews source runs
        out = lam.lambda_handler({"table": "reviews", "segment": 0, "segments": 1}, FakeContext(900_000))
        # Then it is done, and the review is in the target with the e-mail hashed under that secret
        assert out["done"] is True and out["counts"]["written"] == 1
        got = clients.dynamodb.get_item(
            TableName=names.v3_table, Key=to_ddb({"pk": "PRODUCT#p1", "sk": "REVIEW#PUBLISHED#r1"})
        )["Item"]
        assert got["reviewerHash"]["S"] == hmac.new(SECRET_VALUE.encode(), b"a@x", "sha256").hexdigest()
        # And a source the migration does not have is refused, naming the roles there are
        with pytest.raises(ConfigError, match="products"):
            lam.lambda_handler({"table": "users", "segment": 0, "segments": 1}, FakeContext(900_000))


def test_out_of_time_inside_a_big_page_checkpoints_mid_page_and_resumes_after_it(lam, lambda_tables):
    # Issue 20, major 2: the deadline was checked between pages only, and a 1 MB page of small
    # items under a per-item rate limit outlasts the 60 s margin: each invocation timed out.
    names, ddb = lambda_tables
    for i in range(300):  # small items: one Scan page holds them all
        ddb.put_item(TableName=names.source_table("orders"), Item=to_ddb({"orderId": f"o{i:03d}", "userId": "u"}))
    event = {"table": "orders", "segment": 0, "segments": 1, "run_id": "sfn-2"}
    # Given time for about 100 items, then less than the safety margin, inside the one page
    first = lam.lambda_handler(event, FakeContext(*[900_000] * 100, 59_000))
    # Then it stops inside the page, having written only what it took, and checkpoints there
    assert first["done"] is False and 50 < first["counts"]["written"] < 150
    assert first["counts"]["scanned"] == first["counts"]["written"]
    # When invoked again, Then it resumes after the last item taken: every item once, none twice
    second = lam.lambda_handler(event, FakeContext(900_000))
    assert second["done"] is True
    assert second["counts"]["written"] == 300 and second["counts"]["already_filled"] == 0
    assert second["counts"]["scanned"] == 300
    pages = ddb.get_paginator("scan").paginate(TableName=names.v3_table, Select="COUNT")
    assert sum(page["Count"] for page in pages) == 300
