"""Sync evidence on AWS-documented stream behaviour (tests/streams_double.py), v3 and checkpoints on moto.

What the flip gate's lag check stands on: every stream of a table is read (a disabled stream
stays readable), a trimmed unread range is a reported gap, an empty page is not "caught up",
lag covers every shard of every source, and positions only move forward.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cutover.codec import from_ddb, to_ddb
from cutover.state import CheckpointStore
from replicator.poller.sync import SyncOptions, run_sync
from replicator.positions import PositionStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from streams_double import StreamsDouble  # tests/ is on sys.path (not a package)

pytestmark = pytest.mark.server
FAST = SyncOptions(poll_interval=0.0)


class FakeClients:
    """Real DynamoDB (moto server), the streams double for DynamoDB Streams."""

    def __init__(self, real, streams):
        self.dynamodb, self.streams, self.region = real.dynamodb, streams, "us-east-1"


def _double(settings, clients, **kwargs):
    """The double's first stream per table takes moto's ARN, as if it were the table's stream."""
    streams = StreamsDouble(**kwargs)
    for table in (settings.names.source_table("users"), settings.names.source_table("orders")):
        streams.enable(table, clients.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"])
    return streams


@pytest.fixture
def double(settings, clients):
    return _double(settings, clients)


def _user(double, names, user_id, email):
    return double.put(names.source_table("users"), {"userId": user_id}, {"userId": user_id, "email": email})


def _email(clients, names, user_id):
    resp = clients.dynamodb.get_item(
        TableName=names.v3_table, Key=to_ddb({"userId": user_id, "recordType": "PROFILE"}), ConsistentRead=True
    )
    return from_ddb(resp["Item"]).get("email") if "Item" in resp else None


def _positions(clients, names, consumer=None):
    return PositionStore(CheckpointStore(clients.dynamodb, names.checkpoints_table), consumer=consumer)


def test_disable_and_reenable_reads_the_old_streams_unread_records_first(settings, clients, double):
    # Given sync applied u1's first change, then u1 changed again and the stream was disabled and re-enabled
    names = settings.names
    _user(double, names, "u1", "first@x.io")
    run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    _user(double, names, "u1", "second@x.io")
    double.disable(names.source_table("users"))
    double.enable(names.source_table("users"))
    _user(double, names, "u2", "new-stream@x.io")
    # When sync runs again
    result = run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    # Then the old stream's unread record was applied (not dropped), and the new stream's too
    assert _email(clients, names, "u1") == "second@x.io"
    assert _email(clients, names, "u2") == "new-stream@x.io"
    assert result.applied == 2 and result.gaps == []
    # And the old stream was finished before the new one was touched
    old, new = [s for s in double.streams.values() if s.table == names.source_table("users")]
    reads = [sid for kind, sid in double.calls if kind == "records"]
    last_old = max(i for i, sid in enumerate(reads) if sid in old.shards)
    first_new = min(i for i, sid in enumerate(reads) if sid in new.shards)
    assert last_old < first_new


def test_a_saved_position_whose_shard_was_trimmed_is_a_reported_gap(settings, clients, double):
    # Given sync read u1 from shard A, then u2 arrived in A, A split into B (u3) and A was trimmed unread
    names = settings.names
    _user(double, names, "u1", "a@x.io")
    run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    stream = double.latest(names.source_table("users"))
    shard_a = stream.open_shard().shard_id
    _user(double, names, "u2", "lost@x.io")
    double.split(names.source_table("users"))
    _user(double, names, "u3", "b@x.io")
    double.trim(stream.arn, shard_a)
    # When sync runs
    result = run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    # Then the lost range is a gap naming the shard (reported and stored), and reading continued
    assert [g["shard"] for g in result.gaps] == [shard_a]
    stored = _positions(clients, names).gaps()
    assert [g["shard"] for g in stored] == [shard_a] and stored[0]["table"] == names.source_table("users")
    assert _email(clients, names, "u3") == "b@x.io" and _email(clients, names, "u2") is None


def test_a_parent_trimmed_before_it_was_read_is_a_gap(settings, clients, double):
    # Given sync has read the users stream before, then shard B was born, got u2, split into C and was trimmed unread
    names = settings.names
    _user(double, names, "u1", "a@x.io")
    run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    stream = double.latest(names.source_table("users"))
    shard_b = double.split(names.source_table("users"))
    _user(double, names, "u2", "lost@x.io")
    double.split(names.source_table("users"))
    double.trim(stream.arn, shard_b)
    # When sync runs
    result = run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    # Then B is a gap, not "done"
    assert [g["shard"] for g in result.gaps] == [shard_b]


def test_trimmed_data_on_read_is_a_gap_and_cli_sync_exits_1(settings, clients, double, monkeypatch):
    # Given sync read u1, then u2 and u3 arrived and u2 was trimmed before it was read
    names = settings.names
    _user(double, names, "u1", "a@x.io")
    run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    stream = double.latest(names.source_table("users"))
    lost = _user(double, names, "u2", "lost@x.io")
    _user(double, names, "u3", "kept@x.io")
    double.trim(stream.arn, stream.open_shard().shard_id, upto=lost)
    # When `cutover sync --once` runs
    from cutover_cli import _common
    from cutover_cli.app import main

    monkeypatch.setattr(_common.Runtime, "clients", property(lambda rt: FakeClients(clients, double)), raising=False)
    out = CliRunner().invoke(main, ["sync", "--once", "--quiet", "--endpoint-url", settings.endpoint_url,
                                    "--service", settings.service])  # fmt: skip
    # Then it exits 1 naming the gap and what to run, and the readable records were applied
    assert out.exit_code == 1, out.output
    assert "gap" in out.output.lower() and "reconcile --repair" in out.output
    assert _email(clients, names, "u3") == "kept@x.io"
    assert len(_positions(clients, names).gaps()) == 1


def test_empty_pages_before_records_are_not_caught_up(settings, clients):
    # Given a stream whose iterators return two empty pages before the records (as AWS may)
    names = settings.names
    double = _double(settings, clients, empty_pages=2)
    _user(double, names, "u1", "behind-empty-pages@x.io")
    # When sync drains once
    result = run_sync(settings, FakeClients(clients, double), once=True, options=FAST)
    # Then the record behind the empty pages was applied before sync called itself caught up
    assert result.applied == 1 and _email(clients, names, "u1") == "behind-empty-pages@x.io"


def test_lag_is_the_worst_shard_of_every_source(settings, clients):
    # Given users shard X last caught up 10 minutes ago, shard Y (read last) just now, orders just now
    names = settings.names
    now = datetime.now(UTC)
    store = _positions(clients, names)
    # fixed-date: only stored with the positions; lag is measured from caught_up_at
    arn = "arn:aws:dynamodb:us-east-1:1:table/t/stream/2026-01-01T00:00:00.000"
    for table, shard, ago in (
        (names.source_table("users"), "X", 600),
        (names.source_table("users"), "Y", 1),
        (names.source_table("orders"), "Z", 1),
    ):
        store.save_shard(table, shard, stream_arn=arn, sequence="5", closed=False, done=False,
                         caught_up_at=now - timedelta(seconds=ago))  # fmt: skip
    store.save_meta("users", {"table": names.source_table("users"), "caught_up_at": now.isoformat()})
    store.save_meta("orders", {"table": names.source_table("orders"), "caught_up_at": now.isoformat()})
    # Then the lag is X's, not the last-read shard's
    assert store.lag_seconds() >= 599


def test_a_source_never_synced_has_unknown_lag(settings, clients):
    # Given only users has ever been synced
    names = settings.names
    store = _positions(clients, names)
    store.save_meta("users", {"table": names.source_table("users"), "caught_up_at": datetime.now(UTC).isoformat()})
    # Then the lag is unknown (the gate refuses), not users' lag
    assert store.lag_seconds() is None


def test_positions_only_move_forward_and_name_their_consumer(settings, clients):
    # Given consumer A saved shard S at 300
    names = settings.names
    a, b = _positions(clients, names, consumer="A"), _positions(clients, names, consumer="B")
    # fixed-date: only stored with the positions; lag is measured from caught_up_at
    arn = "arn:aws:dynamodb:us-east-1:1:table/t/stream/2026-01-01T00:00:00.000"
    assert a.save_shard(names.source_table("users"), "S", stream_arn=arn, sequence="300", closed=False, done=False)
    # When consumer B, replaying an older range, saves 200
    moved = b.save_shard(names.source_table("users"), "S", stream_arn=arn, sequence="200", closed=False, done=False)
    # Then B's write is refused and the position stays at A's 300, recorded as A's
    saved = a.shard_positions(names.source_table("users"))["S"]
    assert moved is False and saved["sequence"] == "300" and saved["consumer"] == "A"
    # And a forward move by B is accepted and recorded as B's
    assert b.save_shard(names.source_table("users"), "S", stream_arn=arn, sequence="1000", closed=False, done=False)
    assert a.shard_positions(names.source_table("users"))["S"]["consumer"] == "B"
