"""`cutover sync --once` always ends, whatever the streams return, and says what it could not finish.

Each test switches on one misbehaviour of the streams double (tests/streams_double.py) that used
to make `--once` loop forever, and checks three things: it returns within the stated bound
(`run_sync`'s docstring: at most S x P GetRecords calls for S shards listed at the start and P =
`max_pages`), what could be applied was applied, and what could not is named in the result
(`unfinished`, `gaps` or `anomalies`), which the CLI turns into exit 1.
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from replicator.poller.shard_reader import CLOSED_EMPTY_LIMIT, NO_PROGRESS_LIMIT
from replicator.poller.sync import SyncOptions, run_sync

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_sync_evidence import FakeClients, _double, _email, _positions, _user

pytestmark = pytest.mark.server
FAST = SyncOptions(poll_interval=0.0)


@pytest.fixture
def double(settings, clients):
    return _double(settings, clients)


def _reads(double) -> int:
    return sum(1 for kind, _ in double.calls if kind == "records")


def _cli_sync_once(settings, clients, double, monkeypatch, *extra):
    from cutover_cli import _common
    from cutover_cli.app import main

    monkeypatch.setattr(_common.Runtime, "clients", property(lambda rt: FakeClients(clients, double)), raising=False)
    return CliRunner().invoke(
        main, ["sync", "--once", "--quiet", "--endpoint-url", settings.endpoint_url, "--service", settings.service,
               *extra],
    )  # fmt: skip


def test_a_reenabled_stream_labelled_before_the_old_one_is_read_after_it_and_reported(settings, clients, double):
    # Given the old stream holds an unread change and the re-enabled stream's label sorts BEFORE it
    names = settings.names
    _user(double, names, "u1", "first@x.io")
    run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    _user(double, names, "u1", "second@x.io")
    double.disable(names.source_table("users"))
    double.enable(names.source_table("users"), label="2000-01-01T00:00:00.000")
    _user(double, names, "u2", "new-stream@x.io")
    # When sync drains once (this looped forever: the open stream, read "first", never finishes)
    result = run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    # Then both changes were applied, the closed stream first, and the contradiction is reported
    assert _email(clients, names, "u1") == "second@x.io"
    assert _email(clients, names, "u2") == "new-stream@x.io"
    assert result.unfinished == [] and result.gaps == []
    assert [a["table"] for a in result.anomalies] == [names.source_table("users")]
    assert "label sorts before" in result.anomalies[0]["why"]
    old, new = [s for s in double.streams.values() if s.table == names.source_table("users")]
    reads = [sid for kind, sid in double.calls if kind == "records"]
    assert max(i for i, sid in enumerate(reads) if sid in old.shards) < min(
        i for i, sid in enumerate(reads) if sid in new.shards
    )


def test_a_closed_shard_that_never_ends_is_unfinished_and_cli_exits_1(settings, clients, double, monkeypatch):
    # Given the users stream was disabled, but its closed shard never returns a null iterator
    names = settings.names
    _user(double, names, "u1", "before-disable@x.io")
    old = double.latest(names.source_table("users"))
    double.disable(names.source_table("users"))
    (shard,) = old.shards.values()
    shard.never_ends = True
    double.enable(names.source_table("users"))
    _user(double, names, "u2", "waits@x.io")
    # When `cutover sync --once` runs
    out = _cli_sync_once(settings, clients, double, monkeypatch)
    # Then it ends, exit 1, naming the shard and why; the readable record was applied; the new
    # stream (which must wait for the old one) was not read and is named too
    assert out.exit_code == 1, out.output
    assert f"UNFINISHED: {names.source_table('users')} shard {shard.shard_id}: closed shard returned" in out.output
    assert "waits for an older shard or stream" in out.output
    assert _email(clients, names, "u1") == "before-disable@x.io" and _email(clients, names, "u2") is None
    # And within the bound: the stuck shard was read CLOSED_EMPTY_LIMIT + 1 times (one page of records)
    assert sum(1 for kind, sid in double.calls if kind == "records" and sid == shard.shard_id) <= CLOSED_EMPTY_LIMIT + 1


def test_an_iterator_that_keeps_coming_back_is_unfinished_not_reapplied(settings, clients, double):
    # Given the users shard returns its first records again on every page, with the same iterator
    names = settings.names
    _user(double, names, "u1", "once@x.io")
    shard = double.latest(names.source_table("users")).open_shard()
    shard.stuck_iterator = True
    # When sync drains once
    result = run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    # Then u1 was applied exactly once, and the shard is unfinished because it does not advance
    assert result.tables["users"] == 1 and _email(clients, names, "u1") == "once@x.io"
    (stuck,) = [u for u in result.unfinished if u["table"] == names.source_table("users")]
    assert "does not advance" in stuck["why"]
    # And it read the shard once for the record, then NO_PROGRESS_LIMIT times before giving up on it
    assert sum(1 for kind, sid in double.calls if kind == "records" and sid == shard.shard_id) == 1 + NO_PROGRESS_LIMIT


def test_a_stream_that_expires_between_listing_and_reading_is_a_gap(settings, clients, double):
    # Given sync has read u1; u2 arrives; then the stream expires right after sync listed it
    names = settings.names
    _user(double, names, "u1", "a@x.io")
    run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    stream = double.latest(names.source_table("users"))
    _user(double, names, "u2", "lost@x.io")

    def expire_users(arn, shard):
        if arn == stream.arn:
            double.expire(arn)

    double.before_read = expire_users
    # When sync drains once
    result = run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    # Then it ended, and the shard it could not read is a gap (stored, so the gate refuses)
    assert [g["shard"] for g in result.gaps] == [stream.open_shard().shard_id]
    assert len(_positions(clients, names).gaps()) == 1
    assert _email(clients, names, "u2") is None


def test_a_shard_that_takes_writes_on_every_read_ends_at_the_barrier(settings, clients, double):
    # Given a writer that adds a users record before EVERY read (the shard is never empty)
    names = settings.names
    _user(double, names, "u0", "history@x.io")
    written = iter(range(1, 10_000))

    def write_on_read(arn, shard):
        if arn == double.latest(names.source_table("users")).arn:
            n = next(written)
            _user(double, names, f"live{n}", f"live{n}@x.io")

    double.before_read = write_on_read
    # When sync drains once
    one_by_one = SyncOptions(poll_interval=0.0, batch_size=1)
    result = run_sync(settings, FakeClients(clients, double), once=True, options=one_by_one)
    # Then it ended once it applied a record written after it started: everything before was applied
    assert _email(clients, names, "u0") == "history@x.io"
    assert result.unfinished == [] and result.tables["users"] >= 2
    assert _reads(double) < 50


def test_max_pages_stops_a_long_drain_and_says_so(settings, clients, double, monkeypatch):
    # Given five users records and a limit of two pages of one record per shard
    names = settings.names
    for n in range(5):
        _user(double, names, f"u{n}", f"u{n}@x.io")
    # When `cutover sync --once --batch-size 1 --max-pages 2` runs
    out = _cli_sync_once(settings, clients, double, monkeypatch, "--batch-size", "1", "--max-pages", "2")
    # Then it stopped after two records, exit 1, and says how to continue
    assert out.exit_code == 1, out.output
    assert "--max-pages limit" in out.output and "run `cutover sync --once` again" in out.output
    assert _email(clients, names, "u1") == "u1@x.io" and _email(clients, names, "u2") is None
    # And running it again continues from the checkpoint
    out = _cli_sync_once(settings, clients, double, monkeypatch)
    assert out.exit_code == 0, out.output
    assert _email(clients, names, "u4") == "u4@x.io"


def test_continuous_sync_reports_a_stuck_shard_in_its_summary(settings, clients, double):
    # Given a closed shard that never ends (continuous sync cannot get past it)
    names = settings.names
    _user(double, names, "u1", "a@x.io")
    double.disable(names.source_table("users"))
    (shard,) = double.latest(names.source_table("users")).shards.values()
    shard.never_ends = True
    stop = threading.Event()
    store = _positions(clients, names)
    # When continuous sync runs until the stuck shard shows in the per-table summary
    runner = threading.Thread(
        target=run_sync, args=(settings, FakeClients(clients, double)),
        kwargs={"once": False, "stop_event": stop, "options": SyncOptions(poll_interval=0.0, meta_every=0.0)},
    )  # fmt: skip
    runner.start()
    deadline = datetime.now(UTC) + timedelta(seconds=120)
    try:
        while datetime.now(UTC) < deadline and not (store.meta("users") or {}).get("stuck"):
            stop.wait(0.05)
    finally:
        stop.set()
        runner.join(60)
    # Then it applied what it could and reports why it cannot go further, naming the shard
    assert _email(clients, names, "u1") == "a@x.io"
    (stuck,) = store.meta("users")["stuck"]
    assert stuck["shard"] == shard.shard_id and "without ending" in stuck["why"]
    # And `cutover status --json` carries it (the per-table sync summary)
    (row,) = [r for r in store.summary() if r["source"] == "users" and r["consumer"] == "sync"]
    assert row["stuck"] == [stuck]
