"""The backfill unit of work, in-process moto: resume, deadline, restart, never overwrite, quarantine."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from botocore.exceptions import ClientError

from backfill.checkpoint import checkpoint_pk
from backfill.runner import run_backfill
from backfill.segment import run_segment
from cutover.codec import from_ddb, to_ddb
from cutover.errors import ConfigError
from cutover.state import BACKFILL_RUN, CheckpointStore, ReportStore
from replicator.quarantine import QuarantineStore
from replicator.v3_writer import V3Writer


@pytest.fixture
def env(aws_memory):
    return aws_memory


def _seed_users(settings, clients, n: int, bad: int = 0) -> None:
    for i in range(n):
        clients.dynamodb.put_item(
            TableName=settings.names.source_table("users"),
            Item=to_ddb({"userId": f"u{i:03d}", "email": f" User{i}@X.com ", "createdAt": 1700000000 + i}),
        )
    for i in range(bad):
        clients.dynamodb.put_item(
            TableName=settings.names.source_table("users"), Item=to_ddb({"userId": f"bad{i}", "email": 42})
        )


def _v3_items(settings, clients) -> list[dict]:
    pages = clients.dynamodb.get_paginator("scan").paginate(TableName=settings.names.v3_table)
    return [from_ddb(i) for p in pages for i in p["Items"]]


def stop_after_pages(pages: int) -> dict[str, Any]:
    """run_segment options: a deadline that allows `pages` whole pages, then says time is up (like a
    Lambda near its timeout). Counted by the pages finished (`on_page`), not by calls: the segment
    also asks the deadline before each item inside a page."""
    finished = [0]

    def on_page(_table: str, _counts: dict[str, int]) -> None:
        finished[0] += 1

    return {"deadline": lambda: 1.0 if finished[0] < pages else 0.0, "on_page": on_page}


def test_segment_stops_at_deadline_and_resumes_from_its_checkpoint(env):
    settings, clients = env
    _seed_users(settings, clients, 50)
    # Given one segment read 10 items per page, When the deadline allows only 2 pages
    first = run_segment(
        settings, clients, table="users", segment=0, segments=1, run_id="r1", page_size=10, **stop_after_pages(2)
    )
    # Then it stops unfinished having scanned and written exactly two pages, cursor saved
    assert not first.done and first.counts["scanned"] == 20 and first.counts["written"] == 20
    saved = CheckpointStore(clients.dynamodb, settings.names.checkpoints_table).get(checkpoint_pk("users", 1), "0")
    assert saved["cursor"] is not None and saved["done"] is False
    # When it runs again without a deadline, Then it continues (no re-scan) and finishes
    second = run_segment(settings, clients, table="users", segment=0, segments=1, run_id="r2", page_size=10)
    assert second.done and second.counts == {
        "scanned": 50,
        "written": 50,
        "already_filled": 0,
        "skipped_newer": 0,
        "quarantined": 0,
        "not_migrated": 0,
    }
    # And a finished segment is skipped entirely
    third = run_segment(settings, clients, table="users", segment=0, segments=1, run_id="r3", page_size=10)
    assert third.already_done and third.counts["scanned"] == 50
    assert len(_v3_items(settings, clients)) == 50
    assert {i["_version"] for i in _v3_items(settings, clients)} == {"0"}


def test_fill_never_overwrites_the_streams_item_or_a_tombstone(env):
    settings, clients = env
    _seed_users(settings, clients, 5)
    writer = V3Writer(clients.dynamodb, settings.names.v3_table)
    # Given replication already wrote u000 (newer) and deleted u001 (tombstone)
    # fixed-date: stream versions, compared only with backfill's "0"
    writer.put(
        {"userId": "u000", "recordType": "PROFILE", "email": "stream@x"}, "20260101T000000000000.1", "users#u000"
    )
    writer.tombstone(("u001", "PROFILE"), "20260101T000000000000.2", "users#u001")  # fixed-date: as above
    # When backfill runs
    summary = run_backfill(settings, clients, tables=("users",), segments=2, workers=2, require_sync=False)
    # Then both keys were skipped as newer and keep replication's data
    assert summary.tables["users"].skipped_newer == 2 and summary.tables["users"].written == 3
    by_key = {i["userId"]: i for i in _v3_items(settings, clients)}
    assert by_key["u000"]["email"] == "stream@x" and by_key["u001"]["_deleted"] is True


def test_bad_items_go_to_quarantine_and_the_run_is_recorded(env):
    settings, clients = env
    _seed_users(settings, clients, 4, bad=2)
    summary = run_backfill(settings, clients, tables=("users",), segments=3, workers=2, require_sync=False)
    assert summary.complete and summary.tables["users"].quarantined == 2 and summary.tables["users"].scanned == 6
    entries = list(QuarantineStore(clients.dynamodb, settings.names.quarantine_table).entries())
    assert {(e.key, e.reason, e.origin) for e in entries} == {
        ("bad0", "invalid_email", "backfill"),
        ("bad1", "invalid_email", "backfill"),
    }
    recorded = ReportStore(clients.dynamodb, settings.names.reports_table).latest(BACKFILL_RUN)
    assert recorded["complete"] is True and recorded["tables"]["users"]["written"] == 4
    assert set(recorded) >= {"started_at", "finished_at", "tables", "complete"}


def test_restart_discards_cursors_and_refills_nothing(env):
    settings, clients = env
    _seed_users(settings, clients, 12)
    run_backfill(settings, clients, tables=("users",), segments=2, require_sync=False)
    again = run_backfill(settings, clients, tables=("users",), segments=2, require_sync=False)
    assert again.scanned_this_run == 12  # the last run completed: a new run re-scans (issue 13)...
    assert again.tables["users"].written == 0  # ...and fills nothing v3 already has
    restarted = run_backfill(settings, clients, tables=("users",), segments=2, require_sync=False, restart=True)
    t = restarted.tables["users"]
    assert (t.scanned, t.written, t.already_filled) == (12, 0, 12)


def test_a_failed_write_leaves_its_page_uncheckpointed_and_the_rerun_finishes_exactly(env):
    settings, clients = env
    _seed_users(settings, clients, 30)
    calls = itertools.count()

    def fail_once(**kwargs):
        if next(calls) == 15:  # a non-retryable failure in the middle of the second page
            from types import SimpleNamespace

            return SimpleNamespace(status_code=400, headers={}), {
                "Error": {"Code": "AccessDeniedException", "Message": "injected"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        return None

    clients.dynamodb.meta.events.register("before-call.dynamodb.PutItem", fail_once)
    # When the run crashes on that write
    with pytest.raises(ClientError):
        run_backfill(
            settings,
            clients,
            tables=("users",),
            segments=1,
            workers=1,
            write_threads=1,
            require_sync=False,
            page_size=10,
        )
    # Then the rerun resumes at the crashed page (page 1 is not re-done): the 9 items of page 2 that
    # landed before the crash are recognised as already filled, the failed one is written now
    summary = run_backfill(settings, clients, tables=("users",), segments=1, require_sync=False, page_size=10)
    t = summary.tables["users"]
    assert (t.scanned, t.written, t.already_filled) == (30, 21, 9)
    assert len(_v3_items(settings, clients)) == 30


def test_segment_arguments_are_validated(env):
    settings, clients = env
    with pytest.raises(ConfigError, match="--segment 3 is outside 0..1"):
        run_segment(settings, clients, table="users", segment=3, segments=2, run_id="x")
    with pytest.raises(ConfigError, match="unknown table"):
        run_segment(settings, clients, table="things", segment=0, segments=1, run_id="x")


def test_an_interrupted_run_is_resumed_and_says_so_a_complete_one_is_followed_by_a_new_one(env):
    # Given a run stopped after one of two segments (a single-segment run stands in for Ctrl-C)
    settings, clients = env
    _seed_users(settings, clients, 12)
    said: list[str] = []
    run_backfill(settings, clients, tables=("users",), segments=2, require_sync=False, only_segment=0)
    # When the obvious command runs again, Then it resumes that run (and says so)
    resumed = run_backfill(settings, clients, tables=("users",), segments=2, require_sync=False, announce=said.append)
    assert resumed.complete and said == [f"users: resuming backfill run {resumed.run_id} (1/2 segments done)"]
    # When v3 loses items and the command runs again, Then a new run starts and fills them
    for i in range(3):
        clients.dynamodb.delete_item(
            TableName=settings.names.v3_table, Key=to_ddb({"userId": f"u{i:03d}", "recordType": "PROFILE"})
        )
    again = run_backfill(settings, clients, tables=("users",), segments=2, require_sync=False, announce=said.append)
    assert again.tables["users"].written == 3 and "the last run completed; starting new run" in said[-1]


def test_another_segment_count_than_the_interrupted_run_is_refused_unless_restart(env):
    from backfill.runs import InterruptedRunError

    settings, clients = env
    _seed_users(settings, clients, 12)
    run_backfill(settings, clients, tables=("users",), segments=4, require_sync=False, only_segment=0)
    with pytest.raises(
        InterruptedRunError, match="resume it with --segments 4, or discard its progress with --restart"
    ):
        run_backfill(settings, clients, tables=("users",), segments=8, require_sync=False)
    said: list[str] = []
    run_backfill(
        settings, clients, tables=("users",), segments=8, require_sync=False, restart=True, announce=said.append
    )
    assert said and said[0].startswith("users: --restart discards run ")
    assert "(1/4 segments done); starting run " in said[0] and said[0].endswith("(8 segments)")
    # and the discarded 4-segment layout's progress is gone with it
    from backfill.checkpoint import SegmentCheckpoints
    from cutover.state import CheckpointStore

    old = SegmentCheckpoints(CheckpointStore(clients.dynamodb, settings.names.checkpoints_table), "users", 4)
    assert not any(old.load(seg).done or old.load(seg).cursor for seg in range(4))
