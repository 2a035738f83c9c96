"""Two backfills on one segment (a retried Lambda, two CLI runs) never undo each other's progress (issue 14.9)."""

from __future__ import annotations

import json

import pytest

from backfill.checkpoint import SegmentCheckpoints
from backfill.segment import run_segment
from cutover.clients import Clients
from cutover.codec import to_ddb
from cutover.state import CheckpointStore
from tests.unit.test_backfill_segment import stop_after_pages

N = 30


@pytest.fixture
def env(aws_memory):
    settings, clients = aws_memory
    for i in range(N):
        clients.dynamodb.put_item(
            TableName=settings.names.source_table("users"), Item=to_ddb({"userId": f"u{i:02d}", "email": f"u{i}@x"})
        )
    return settings, clients


def _segment(settings, clients, **options):
    return run_segment(settings, clients, table="users", segment=0, segments=1, run_id="r", page_size=10, **options)


def _stored(settings, clients):
    return SegmentCheckpoints(CheckpointStore(clients.dynamodb, settings.names.checkpoints_table), "users", 1).load(0)


def test_a_slower_runner_never_unfinishes_a_segment_another_runner_finished(env):
    settings, clients = env
    slow = Clients(settings)
    fired = []

    def finish_it_first(params, **_):
        body = json.loads(params["body"])
        if not fired and body.get("TableName") == settings.names.checkpoints_table:
            fired.append(1)
            _segment(settings, clients)  # the other runner does the whole segment meanwhile

    slow.dynamodb.meta.events.register("before-call.dynamodb.PutItem", finish_it_first)
    # Given runner A (slow) has written its first page and is about to save its checkpoint, and runner B,
    # started from the same checkpoint, finishes the whole segment before A's save lands
    result = _segment(settings, slow, **stop_after_pages(2))
    # Then A's stale save is refused: the segment stays finished and its counts cover every item once
    assert fired
    stored = _stored(settings, clients)
    assert stored.done and result.done
    assert stored.counts["scanned"] == N and stored.counts["written"] + stored.counts["already_filled"] == N
    # And the next run has nothing to rescan
    assert _segment(settings, clients).already_done


def test_a_runner_behind_never_moves_the_checkpoint_back_nor_drops_counts(env):
    settings, clients = env
    other = Clients(settings)
    fired = []

    def two_pages_of_the_other_runner(params, **_):
        body = json.loads(params["body"])
        if not fired and body.get("TableName") == settings.names.checkpoints_table:
            fired.append(1)
            _segment(settings, other, **stop_after_pages(2))  # B: two pages

    clients.dynamodb.meta.events.register("before-call.dynamodb.PutItem", two_pages_of_the_other_runner)
    # Given runner A wrote its first page, and runner B saves two pages before A's checkpoint save
    _segment(settings, clients, **stop_after_pages(1))
    # Then the checkpoint stays at B's two pages (not A's one), with B's counts
    stored = _stored(settings, clients)
    assert fired and stored.pages == 2 and stored.counts["scanned"] == 20
    # And a third run finishes the rest exactly: every item scanned once in the stored totals
    _segment(settings, other)
    stored = _stored(settings, clients)
    assert stored.done and stored.counts["scanned"] == N
