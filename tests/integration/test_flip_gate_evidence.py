"""The flip gate refuses weak evidence (issue 9) and a flip is a compare-and-set (issue 14.6/14.14).

Through the CLI against the moto server, with evidence written by `prepare` (test_flip_interlock).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from flag_owner import set_read_source  # tests/ is on sys.path
from test_flip_interlock import _cli, _flag, fresh, module_backend, prepare  # same directory: on sys.path

from controlplane.evidence import Stores
from controlplane.flag import ReadSource
from controlplane.flipper import flip
from cutover.clock import iso
from cutover.state import FLIP, RECONCILE, RECONCILE_REPAIR, CheckpointStore, ReportStore
from replicator.positions import PositionStore

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def backend(moto_server):
    return module_backend(moto_server, "gate")


@pytest.fixture
def world(backend):
    settings, clients = fresh(*backend)
    set_read_source(settings, clients, "shadow")
    return settings, clients


def _reports(settings, clients):
    return ReportStore(clients.dynamodb, settings.names.reports_table)


def test_full_evidence_from_shadow_is_allowed(world):
    # Given complete, fresh evidence and reads on shadow
    settings, clients = world
    prepare(settings, clients)
    # When flipping to v3, Then it is allowed and the record holds what was checked
    code, out = _cli(settings, "flip", "v3")
    assert (code, out.strip()) == (0, "read-source: shadow -> v3")
    record = _reports(settings, clients).latest(FLIP)
    assert record["forced"] is False and record["checked"]["verdict"]["allowed"] is True
    assert record["checked"]["evidence"]["reconcile"]["sample"] is None and record["applied"] is True
    # And the clock the evidence was judged by is the backend's, with the measured skew recorded
    clock = record["checked"]["evidence"]["clock"]
    assert clock["source"] == "backend" and abs(clock["skew_seconds"]) < 5 and clock["local"]


def test_a_sampled_reconcile_is_refused(world):
    settings, clients = world
    prepare(settings, clients, sample=0.01)
    code, out = _cli(settings, "flip", "v3")
    assert code == 1 and "sampled (0.01 of items)" in out and _flag(settings, clients) == "shadow"


def test_a_reconcile_before_sync_caught_up_or_before_the_last_backfill_is_refused(world):
    # Given a reconcile that started while sync lagged 470 s, and a backfill that completed after it started
    settings, clients = world
    prepare(settings, clients, sync_lag_at_start=470.0, backfill_after_reconcile=True)
    code, out = _cli(settings, "flip", "v3")
    assert code == 1 and _flag(settings, clients) == "shadow"
    assert "started while sync was not caught up (lag then: 470 s" in out
    assert "before the last backfill completed" in out


def test_loosening_a_limit_is_an_override_that_needs_a_reason(world):
    # Given a reconcile 30 h old and lag of 600 s
    settings, clients = world
    prepare(settings, clients, reconcile_age_h=30, lag_s=600)
    # When loosening the limits without --force or a reason, Then exit 2 and nothing changes
    code, out = _cli(settings, "flip", "v3", "--max-lag-seconds", "100000", "--max-age-hours", "100000")
    assert code == 2 and "needs --reason" in out and _flag(settings, clients) == "shadow"
    # When loosening with a reason, Then it flips, recorded as forced with what was loosened
    code, out = _cli(settings, "flip", "v3", "--max-lag-seconds", "100000", "--max-age-hours", "100000",
                     "--reason", "drill")  # fmt: skip
    assert code == 0 and _flag(settings, clients) == "v3"
    record = _reports(settings, clients).latest(FLIP)
    assert record["forced"] is True and record["reason"] == "drill"
    assert record["loosened"]["max_lag_seconds"] == {"policy": 60.0, "given": 100000.0}
    assert "limit max_age_hours loosened" in record["overridden"]


def test_tightening_a_limit_is_not_an_override(world):
    settings, clients = world
    prepare(settings, clients, lag_s=5)
    code, out = _cli(settings, "flip", "v3", "--max-lag-seconds", "1")
    assert code == 1 and "over the 1 s limit" in out


def test_v3_needs_a_shadow_phase_first(world):
    settings, clients = world
    prepare(settings, clients)
    set_read_source(settings, clients, "legacy")
    code, out = _cli(settings, "flip", "v3")
    assert code == 1 and "not shadow: run `cutover flip shadow` first" in out and _flag(settings, clients) == "legacy"


def test_a_source_never_synced_is_refused(world):
    # Given only users has a sync position
    settings, clients = world
    prepare(settings, clients, lag_s=None)
    n = settings.names
    PositionStore(CheckpointStore(clients.dynamodb, n.checkpoints_table)).save_shard(
        n.source_table("users"),
        "s",
        stream_arn="a",
        sequence="1",
        closed=False,
        done=False,
        caught_up_at=datetime.now(UTC),
    )
    code, out = _cli(settings, "flip", "v3")
    assert code == 1 and "never synced (orders)" in out


def test_a_sync_gap_refuses_until_a_full_repair_started_after_it(world):
    settings, clients = world
    prepare(settings, clients)
    n = settings.names
    positions = PositionStore(CheckpointStore(clients.dynamodb, n.checkpoints_table))
    gap = positions.record_gap(n.source_table("users"), "arn", "shard-1", "42", "trimmed")
    # Then refused while no repair has run since the gap
    code, out = _cli(settings, "flip", "v3")
    assert code == 1 and "gap in" in out and "reconcile --repair" in out
    # When a full repair that started after the gap is recorded, Then allowed
    started = iso(datetime.now(UTC))
    assert started > gap["detected_at"]
    _reports(settings, clients).record(RECONCILE_REPAIR, {"started_at": started, "repair": True}, at=started)
    assert _cli(settings, "flip", "v3")[0] == 0


def test_a_report_from_a_clock_far_ahead_is_refused(world):
    # Given a reconcile whose finish time is 2 h in the future (another machine's clock)
    settings, clients = world
    prepare(settings, clients, reconcile_age_h=-2)
    code, out = _cli(settings, "flip", "v3")
    assert code == 1 and "in the future" in out and "clock skew" in out


def test_a_flip_evaluated_against_a_value_that_changed_fails_and_changes_nothing(world, monkeypatch):
    # Given A is evaluating a flip to v3 from shadow
    settings, clients = world
    prepare(settings, clients)
    a, b = Stores.build(settings, clients), Stores.build(settings, clients)
    evaluate = a.evidence

    def slow_evidence(**kwargs):
        # While A gathers evidence, B rolls back to legacy
        assert not flip(b, ReadSource.LEGACY, "B").refused
        return evaluate(**kwargs)

    monkeypatch.setattr(a, "evidence", slow_evidence)
    # When A writes, Then it fails with a clear message and the rollback stands
    from controlplane.flipper import FlipConflictError

    with pytest.raises(FlipConflictError, match="changed while this flip to v3 was being evaluated"):
        flip(a, ReadSource.V3, "A")
    assert _flag(settings, clients) == "legacy"
    assert [(f["from"], f["to"]) for f in _reports(settings, clients).history(FLIP)] == [("shadow", "legacy")]


def test_a_failing_flip_changes_nothing(backend):
    # Given a service name with no tables and no parameter
    settings, clients = backend
    code, out = _cli(dataclasses.replace(settings, service="nope"), "flip", "shadow")
    # Then exit 2 and no flag parameter was created
    assert code == 2
    with pytest.raises(clients.ssm.exceptions.ParameterNotFound):
        clients.ssm.get_parameter(Name="/nope/dev/cutover/read-source")


def test_reconcile_record_keeps_start_order(world):
    settings, clients = world
    reports = _reports(settings, clients)
    now = datetime.now(UTC)
    reports.record(RECONCILE, {"run_id": "late", "clean": False}, at=iso(now))
    reports.record(RECONCILE, {"run_id": "early", "clean": True}, at=iso(now - timedelta(minutes=5)))
    assert reports.latest(RECONCILE)["run_id"] == "late"


def test_a_complete_backfill_of_one_source_does_not_cover_the_others(world):
    # Given full evidence, except that the only backfill was `--table users`: complete for users
    settings, clients = world
    prepare(settings, clients, backfilled=("users",))
    # When flipping to v3, Then it is refused naming orders and the command that covers it (the
    # latest run said complete, so it was allowed)
    code, out = _cli(settings, "flip", "v3")
    assert code == 1 and _flag(settings, clients) == "shadow"
    assert "no complete backfill of orders is recorded" in out and "cutover backfill --table orders" in out
