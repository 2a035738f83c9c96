"""Reconcile evidence: ordered by when a run started, one report file per run, what held at the start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cutover.codec import to_ddb
from cutover.state import RECONCILE, ReportStore
from reconciler.run import run_reconcile

pytestmark = pytest.mark.server


def _put(clients, table, item):
    clients.dynamodb.put_item(TableName=table, Item=to_ddb(item))


def test_an_earlier_started_run_never_hides_a_later_failing_one(settings, clients, tmp_path):
    # Given run A (clean) started first but is slow to record; run B started later and is NOT clean
    names = settings.names
    early = run_reconcile(settings, clients, segments=1, workers=1, report_path=str(tmp_path / "r.json"), record=False)
    _put(clients, names.source_table("users"), {"userId": "u1", "email": "u1@x"})  # never replicated: missing in v3
    late = run_reconcile(settings, clients, segments=1, workers=1, report_path=str(tmp_path / "r.json"))
    assert early.clean and not late.clean and early.started_at < late.started_at
    # When A finally records its (clean) result
    from reconciler.run import record_report

    record_report(ReportStore(clients.dynamodb, names.reports_table), early)
    # Then the latest reconcile is still B's failure, and A is in the history
    reports = ReportStore(clients.dynamodb, names.reports_table)
    assert reports.latest(RECONCILE)["run_id"] == late.run_id and reports.latest(RECONCILE)["clean"] is False
    assert {r["run_id"] for r in reports.history(RECONCILE)} == {early.run_id, late.run_id}


def test_the_reports_table_latest_only_moves_forward_in_start_order(settings, clients):
    # Given a record ordered at 10:00:02
    reports = ReportStore(clients.dynamodb, settings.names.reports_table)
    reports.record("kind", {"n": 2}, at="2026-11-27T10:00:02.000Z")  # fixed-date: ordered against the next only
    # When a record ordered earlier arrives later
    reports.record("kind", {"n": 1}, at="2026-11-27T10:00:01.000Z")  # fixed-date: ordered against the last only
    # Then latest keeps the later-ordered one
    assert reports.latest("kind") == {"n": 2}


def test_two_runs_with_one_report_path_write_their_own_files(settings, clients, tmp_path):
    # Given two reconciles pointed at the same --report path
    path = str(tmp_path / "reconcile-report.json")
    _put(clients, settings.names.source_table("users"), {"userId": "u1", "email": "u1@x"})
    first = run_reconcile(settings, clients, segments=1, workers=1, report_path=path)
    second = run_reconcile(settings, clients, segments=1, workers=1, report_path=path)
    # Then each run's file carries its run id and its own summary, and the shared path is a published copy
    assert first.report_path != second.report_path
    for report in (first, second):
        assert report.run_id in Path(report.report_path).name
        written = json.loads(Path(report.report_path).read_text())
        assert written["summary"]["run_id"] == report.run_id and len(written["differences"]) == 1
    assert json.loads(Path(path).read_text())["summary"]["run_id"] == second.run_id
    assert not list(tmp_path.glob("*.partial"))


def test_a_run_records_what_held_when_it_started(settings, clients, tmp_path):
    # Given sync never ran and no backfill was recorded
    report = run_reconcile(settings, clients, segments=1, workers=1, report_path=str(tmp_path / "r.json"))
    # Then the stored summary says so: the gate can tell this run vouches for nothing
    stored = ReportStore(clients.dynamodb, settings.names.reports_table).latest(RECONCILE)
    assert stored["at_start"]["sync_lag_seconds"] is None and stored["at_start"]["backfill_finished_at"] is None
    assert stored["started_at"] == report.started_at
