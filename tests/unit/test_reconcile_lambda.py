"""Reconcile on AWS, driven the way its state machine drives it: begin, each map item's segment
Lambda invoked until it says done (timeouts and a crash in the middle), then merge. The merged
report must equal what a local run finds, and be recorded the way a local run records it."""

from __future__ import annotations

import pytest

from backfill.runner import run_backfill
from cutover.codec import to_ddb
from cutover.state import RECONCILE, RECONCILE_REPAIR, ReportStore
from reconciler.partials import RunStore
from reconciler.run import run_reconcile
from tests.unit.test_backfill_lambda import FakeContext, _env

RUN = "20260101T000000000-abc123"  # fixed-date: an id; Begin records the run's start from the clock


@pytest.fixture
def lambdas(monkeypatch, aws_memory):
    import reconciler.merge as merge  # importing must not need any environment
    import reconciler.segment_lambda as segment

    settings, clients = aws_memory
    for key, value in {**_env(settings.names), "POWERTOOLS_SERVICE_NAME": "reconcile"}.items():
        monkeypatch.setenv(key, value)
    for module in (segment, merge):
        module.cold_start.reset()
    yield segment, merge, settings, clients
    for module in (segment, merge):
        module.cold_start.reset()


def _seed_with_differences(settings, clients) -> None:
    """40 large users (several 1 MB Scan pages) and 12 orders, backfilled; then 2 missing and 1 extra."""
    names, ddb = settings.names, clients.dynamodb
    for i in range(40):
        ddb.put_item(
            TableName=names.source_table("users"),
            Item=to_ddb({"userId": f"u{i}", "email": f"u{i}@x", "pad": "x" * 60_000}),
        )
    for i in range(12):
        ddb.put_item(
            TableName=names.source_table("orders"), Item=to_ddb({"orderId": f"o{i}", "userId": f"u{i % 4}", "total": i})
        )
    run_backfill(settings, clients, segments=2, workers=1, require_sync=False)
    for user in ("u3", "u17"):
        ddb.delete_item(TableName=names.v3_table, Key=to_ddb({"userId": user, "recordType": "PROFILE"}))
    ddb.put_item(
        TableName=names.v3_table,
        Item=to_ddb(
            {"userId": "ghost", "recordType": "PROFILE", "email": "g@x", "_version": "0", "_source": "users#ghost"}
        ),
    )


def _drive(segment, merge, event_in, contexts=None):
    """What the state machine does: begin, every item looped until done, merge."""
    begin = merge.lambda_handler({"step": "begin", **event_in}, FakeContext(900_000))
    rounds = {}
    for item in begin["items"]:
        event = {**event_in, **item}
        key = (item["part"], item["segment"])
        rounds[key] = 0
        while True:
            rounds[key] += 1
            context = (contexts or {}).get((*key, rounds[key]), FakeContext(900_000))
            if segment.lambda_handler(event, context)["done"]:
                break
    return begin, rounds, merge.lambda_handler({"step": "merge", "run_id": event_in["run_id"]}, FakeContext(900_000))


def test_segments_pause_before_the_timeout_resume_and_merge_into_the_local_runs_report(lambdas):
    segment, merge, settings, clients = lambdas
    _seed_with_differences(settings, clients)
    local = run_reconcile(settings, clients, segments=2, workers=1, record=False)
    # Given the users segment 0 invocation has 61 s left before its first page and 59 s after it
    contexts = {("users", 0, 1): FakeContext(61_000, 59_000)}
    event = {"run_id": RUN, "segments": 2, "sample": None, "repair": False}
    # When the state machine's loop runs
    begin, rounds, merged = _drive(segment, merge, event, contexts)
    # Then that segment paused after one page and a second invocation finished it
    assert rounds[("users", 0)] == 2 and all(n == 1 for key, n in rounds.items() if key != ("users", 0))
    assert len(begin["items"]) == 6  # users, orders and v3 x 2 segments
    # And the merged counts are exactly the local run's (nothing lost or counted twice by the resume)
    assert merged["counts"] == local.counts and local.counts["missing"] == 2 and local.counts["extra"] == 1
    # And ONE report is recorded as a local run records it: ordered by start, with its evidence at start
    latest = ReportStore(clients.dynamodb, settings.names.reports_table).latest(RECONCILE)
    assert latest["run_id"] == RUN and latest["started_at"] == begin["started_at"] and latest["clean"] is False
    assert set(latest["at_start"]) >= {"sync_lag_seconds", "gaps", "backfill_finished_at"}
    stored = RunStore(clients.dynamodb, settings.names.reports_table, RUN).report()
    kinds = sorted(d["kind"] for d in stored["differences_shown"])
    assert kinds == ["extra", "missing", "missing"]


def test_a_crash_between_a_pages_differences_and_its_checkpoint_counts_nothing_twice(lambdas, monkeypatch):
    segment, merge, settings, clients = lambdas
    _seed_with_differences(settings, clients)
    local = run_reconcile(settings, clients, segments=1, workers=1, record=False)
    # Given the checkpoint write after the users segment's 2nd page fails once (the Lambda dies there)
    real_save = RunStore.save_part
    calls = {"n": 0}

    def crashing_save(self, part, seg, progress):
        if part == "users":
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("Lambda killed")
        return real_save(self, part, seg, progress)

    monkeypatch.setattr(RunStore, "save_part", crashing_save)
    event = {"run_id": RUN, "segments": 1, "sample": None, "repair": False, "part": "users", "segment": 0}
    merge.lambda_handler({"step": "begin", **{k: event[k] for k in ("run_id", "segments", "sample", "repair")}}, None)
    with pytest.raises(RuntimeError, match="killed"):
        segment.lambda_handler(event, FakeContext(900_000))
    # When Step Functions retries the task, and the other parts run
    for part in ("users", "orders", "v3"):
        while not segment.lambda_handler({**event, "part": part}, FakeContext(900_000))["done"]:
            pass
    merged = merge.lambda_handler({"step": "merge", "run_id": RUN}, FakeContext(900_000))
    # Then the counts and the stored differences are the local run's, each once
    assert merged["counts"] == local.counts
    stored = RunStore(clients.dynamodb, settings.names.reports_table, RUN)
    parts = stored.parts()
    assert len(list(stored.differences(parts))) == 3


def test_merge_refuses_while_a_segment_is_unfinished_and_repair_runs_record_the_repair_kind(lambdas):
    segment, merge, settings, clients = lambdas
    _seed_with_differences(settings, clients)
    event = {"run_id": RUN, "segments": 1, "sample": None, "repair": True}
    merge.lambda_handler({"step": "begin", **event}, None)
    # Given only the users part has run, When merge is invoked, Then it refuses naming what is left
    segment.lambda_handler({**event, "part": "users", "segment": 0}, FakeContext(900_000))
    with pytest.raises(merge.UnfinishedRunError, match="orders#0"):
        merge.lambda_handler({"step": "merge", "run_id": RUN}, None)
    # When the rest runs with repair, Then every difference is repaired and the run recorded as a repair
    for part in ("orders", "v3"):
        segment.lambda_handler({**event, "part": part, "segment": 0}, FakeContext(900_000))
    merged = merge.lambda_handler({"step": "merge", "run_id": RUN}, None)
    assert merged["clean"] is True and merged["counts"]["repaired"] == 3
    assert ReportStore(clients.dynamodb, settings.names.reports_table).latest(RECONCILE_REPAIR)["run_id"] == RUN
    assert run_reconcile(settings, clients, segments=1, record=False).clean


@pytest.mark.parametrize(
    "event",
    [
        {"run_id": "r", "part": "nope", "segment": 0, "segments": 1},
        {"run_id": "r", "part": "users", "segment": 2, "segments": 2},
        {"run_id": "r", "part": "users", "segment": 0, "segments": 1, "sample": 2},
        {"part": "users", "segment": 0, "segments": 1},
    ],
)
def test_malformed_segment_events_are_rejected_naming_the_field(lambdas, event):
    segment, *_ = lambdas
    with pytest.raises(segment.ConfigError, match="reconcile segment"):
        segment.parse_event(event)


def test_the_lambdas_run_any_migration_by_its_roles_and_merge_into_the_local_runs_report(monkeypatch):
    """The catalog on AWS: SOURCE_TABLES and CUTOVER_MIGRATION name it, one part per source role, the
    reviewer secret read at cold start; the merged report is the local run's, keys by the target's names."""
    import json

    from moto import mock_aws

    import reconciler.merge as merge
    import reconciler.segment_lambda as segment
    from tests.unit.test_backfill_catalog import CATALOG_SPEC, open_world, product, put, review

    with mock_aws():
        settings, clients = open_world(CATALOG_SPEC, service="lam")
        names = settings.names
        for i in range(6):
            put(clients, names.source_table("products"), product(f"p{i}"))
        put(clients, names.source_table("reviews"), review("p1", "r1", "PUBLISHED", reviewerEmail="a@x"))
        run_backfill(settings, clients, segments=2, require_sync=False)
        clients.dynamodb.delete_item(TableName=names.v3_table, Key=to_ddb({"pk": "CATEGORY#books", "sk": "PRODUCT#p2"}))
        put(clients, names.source_table("products"), product("p3", category="toys"))  # moved, stream record lost
        local = run_reconcile(settings, clients, segments=2, workers=1, record=False)
        env = {
            **_env(names),
            "SOURCE_TABLES": json.dumps(names.source_tables()),
            "CUTOVER_MIGRATION": CATALOG_SPEC,
            "POWERTOOLS_SERVICE_NAME": "reconcile",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        for module in (segment, merge):
            module.cold_start.reset()
        try:
            begin, rounds, merged = _drive(segment, merge, {"run_id": RUN, "segments": 2, "sample": None,
                                                            "repair": False})  # fmt: skip
        finally:
            for module in (segment, merge):
                module.cold_start.reset()
        assert sorted({part for part, _ in rounds}) == ["products", "reviews", "v3"] and len(begin["items"]) == 6
        assert merged["counts"] == local.counts
        assert (local.counts["missing"], local.counts["different"], local.counts["extra"]) == (2, 1, 1)
        stored = RunStore(clients.dynamodb, names.reports_table, RUN).report()
        extra = next(d for d in stored["differences_shown"] if d["kind"] == "extra")
        assert extra["v3_key"] == {"pk": "CATEGORY#books", "sk": "PRODUCT#p3"} and extra["detail"] == "source_moved"


def test_two_invocations_of_one_part_at_once_count_each_page_once(lambdas, monkeypatch):
    # Given a Step Functions retry of the users part while its first invocation still runs: the
    # second loads the same checkpoint and finishes the part before the first saves its first page
    segment, merge, settings, clients = lambdas
    _seed_with_differences(settings, clients)
    local = run_reconcile(settings, clients, segments=1, workers=1, record=False)
    event = {"run_id": RUN, "segments": 1, "sample": None, "repair": False, "part": "users", "segment": 0}
    merge.lambda_handler({"step": "begin", **{k: event[k] for k in ("run_id", "segments", "sample", "repair")}}, None)
    real_save = RunStore.save_part
    state = {"first": True}

    def overtaken_save(self, part, seg, progress):
        if part == "users" and state.pop("first", False):
            while not segment.lambda_handler(event, FakeContext(900_000))["done"]:
                pass  # the retry runs the whole part meanwhile
        return real_save(self, part, seg, progress)

    monkeypatch.setattr(RunStore, "save_part", overtaken_save)
    out = segment.lambda_handler(event, FakeContext(900_000, 0))  # out of time after its first page
    # When the other parts run and the run merges
    for part in ("orders", "v3"):
        while not segment.lambda_handler({**event, "part": part}, FakeContext(900_000))["done"]:
            pass
    merged = merge.lambda_handler({"step": "merge", "run_id": RUN}, FakeContext(900_000))
    # Then the late first invocation lost its save and reports the winner's finished part (its save
    # used to win and put the part back to page 1, unfinished, so the merge refused the run), and
    # the counts and the stored differences are the local run's, each once
    assert out["done"] is True
    assert merged["counts"] == local.counts
    stored = RunStore(clients.dynamodb, settings.names.reports_table, RUN)
    assert len(list(stored.differences(stored.parts()))) == 3


def test_a_segment_scans_pages_small_enough_to_finish_inside_the_deadline_margin(lambdas, monkeypatch):
    # Given 300 small users missing from v3 (one 1 MB page holds ~10,000 such, and each difference
    # costs consistent reads, so a whole page's work could outlast SAFETY_SECONDS)
    segment, merge, settings, clients = lambdas
    ddb = clients.dynamodb
    for i in range(300):
        ddb.put_item(TableName=settings.names.source_table("users"), Item=to_ddb({"userId": f"u{i}", "email": "e"}))
    limits: list[int | None] = []
    scan = segment._ResumedScan.scan

    def noted(self, **kwargs):
        limits.append(kwargs.get("Limit"))
        return scan(self, **kwargs)

    monkeypatch.setattr(segment._ResumedScan, "scan", noted)
    event = {"run_id": RUN, "segments": 1, "sample": None, "repair": False, "part": "users", "segment": 0}
    merge.lambda_handler({"step": "begin", **{k: event[k] for k in ("run_id", "segments", "sample", "repair")}}, None)
    # When the users part runs
    while not segment.lambda_handler(event, FakeContext(900_000))["done"]:
        pass
    # Then every Scan asks for PAGE_ITEMS items at most (it asked for a whole 1 MB page), and the
    # part counts all 300
    assert limits and all(n == segment.PAGE_ITEMS <= 500 for n in limits), limits
    assert RunStore(ddb, settings.names.reports_table, RUN).load_part("users", 0).counts["missing"] == 300
