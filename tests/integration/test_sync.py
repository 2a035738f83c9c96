"""Local sync against the moto server: drains the legacy streams into v3 and survives a crash."""

from __future__ import annotations

import threading

import pytest

from cutover.codec import from_ddb, to_ddb
from cutover.state import CheckpointStore
from cutover.transform_errors import TransformError
from migrations.seed.transform import transform
from replicator.batch import BatchResult
from replicator.poller.sync import SyncOptions, SyncStalledError, run_sync
from replicator.positions import PositionStore
from replicator.quarantine import QuarantineStore
from replicator.record_apply import RecordOutcome, RecordResult

pytestmark = pytest.mark.server


def _replicator(settings, clients):
    from replicator.handler import Replicator, ReplicatorConfig

    return Replicator(ReplicatorConfig.from_names(settings.names), clients.dynamodb)


def _scan(clients, table):
    items, kwargs = [], {"TableName": table, "ConsistentRead": True}
    while True:
        resp = clients.dynamodb.scan(**kwargs)
        items += [from_ddb(i) for i in resp.get("Items", [])]
        if "LastEvaluatedKey" not in resp:
            return items
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def _v3(clients, names):
    return {(i["userId"], i["recordType"]): i for i in _scan(clients, names.v3_table)}


def _business(item):
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _assert_v3_matches_legacy(clients, names):
    """Every legacy item is in v3 as transform(item), or quarantined (an open entry holding the item
    as it is in legacy, with the transform's reason); no other live v3 item, no other open entry."""
    v3 = _v3(clients, names)
    expected, bad = {}, {}
    for source, table in (("users", names.source_table("users")), ("orders", names.source_table("orders"))):
        for item in _scan(clients, table):
            try:
                for out in transform(source, item):
                    expected[(out["userId"], out["recordType"])] = out
            except TransformError as exc:
                bad[(exc.source, exc.key)] = (exc.reason, item)
    live = {k: _business(v) for k, v in v3.items() if not v.get("_deleted")}
    assert live == expected
    quarantined = QuarantineStore(clients.dynamodb, names.quarantine_table).entries()
    assert {(e.source, e.key): (e.reason, e.legacy_item()) for e in quarantined} == bad


def _put(clients, table, item):
    clients.dynamodb.put_item(TableName=table, Item=to_ddb(item))


def _write_history(clients, names, n_users=30):
    """Inserts, updates, deletes, an order moved to another user and two bad items."""
    for i in range(n_users):
        _put(
            clients,
            names.source_table("users"),
            {"userId": f"u{i}", "email": f" User{i}@Example.COM ", "createdAt": 1_700_000_000 + i},
        )
        _put(
            clients,
            names.source_table("orders"),
            {"orderId": f"o{i}", "userId": f"u{i}", "total": i, "createdAt": "2024-01-02T03:04:05+02:00"},
        )
    for i in range(0, n_users, 3):
        _put(
            clients,
            names.source_table("users"),
            {"userId": f"u{i}", "email": f"changed{i}@x.io", "createdAt": 1_700_000_000_000},
        )
    for i in range(1, n_users, 5):
        clients.dynamodb.delete_item(TableName=names.source_table("users"), Key=to_ddb({"userId": f"u{i}"}))
    _put(clients, names.source_table("orders"), {"orderId": "o2", "userId": "u7", "total": 2})
    _put(clients, names.source_table("users"), {"userId": "bad-email", "createdAt": 1})
    _put(clients, names.source_table("orders"), {"orderId": "bad-ts", "userId": "u0", "createdAt": "yesterday"})
    return 2 * n_users + len(range(0, n_users, 3)) + len(range(1, n_users, 5)) + 3


def test_sync_once_makes_v3_match_the_transform_of_every_legacy_item(settings, clients):
    # Given a history of legacy writes, including a key move and bad items
    names = settings.names
    written = _write_history(clients, names)
    # When sync drains once
    result = run_sync(settings, clients, once=True)
    # Then every record was applied once, v3 equals transform(legacy), bad items are quarantined
    assert result.records_read == result.applied == written
    assert result.quarantined == 2 and result.failed_retried == 0
    _assert_v3_matches_legacy(clients, names)
    assert _v3(clients, names)[("u2", "ORDER#o2")]["_deleted"] is True
    assert result.lag_ms(0.5) is not None and result.lag_max_ms >= result.lag_ms(0.99)
    # And the positions say sync has run and is current
    positions = PositionStore(CheckpointStore(clients.dynamodb, names.checkpoints_table))
    assert positions.has_run("users") and positions.has_run("orders")
    assert 0 <= positions.lag_seconds() < 30
    # And a second pass finds nothing new
    assert run_sync(settings, clients, once=True).records_read == 0


class Crash(BaseException):
    """Stands in for the process dying (not an Exception, so sync cannot catch and retry it)."""


class CrashAfterApply:
    """Applies batches through the real handler, then 'dies' before sync can checkpoint batch N."""

    def __init__(self, inner, crash_on_batch):
        self.inner, self.crash_on_batch, self.calls = inner, crash_on_batch, 0

    def process(self, records):
        self.calls += 1
        batch = self.inner.process(records)
        if self.calls == self.crash_on_batch:
            raise Crash()
        return batch


def test_crash_mid_stream_then_restart_skips_nothing_and_reapplies_only_the_last_batch(settings, clients):
    # Given legacy writes spread over several small batches
    names = settings.names
    written = _write_history(clients, names)
    options = SyncOptions(batch_size=10)
    # When sync dies right after applying its 3rd batch, before checkpointing it
    crashing = CrashAfterApply(_replicator(settings, clients), crash_on_batch=3)
    with pytest.raises(Crash):
        run_sync(settings, clients, once=True, replicator=crashing, options=options)
    versions_before = {k: v["_version"] for k, v in _v3(clients, names).items()}
    # And is restarted
    result = run_sync(settings, clients, once=True, options=options)
    # Then it resumes after the last checkpoint: only the un-checkpointed batch is read again
    assert result.records_read == written - 20
    # And the re-applied batch had no effect: the guard skipped every record it had already applied
    after = _v3(clients, names)
    assert all(after[k]["_version"] >= v for k, v in versions_before.items())
    assert result.skipped >= 10 - 2  # the replayed batch (minus any key it wrote only once)
    _assert_v3_matches_legacy(clients, names)


def test_stop_event_stops_a_continuous_sync_and_restart_resumes(settings, clients):
    # Given a continuous sync running in a thread
    names = settings.names
    stop = threading.Event()
    results = []
    thread = threading.Thread(
        target=lambda: results.append(
            run_sync(settings, clients, once=False, stop_event=stop, options=SyncOptions(poll_interval=0.05))
        )
    )
    thread.start()
    # When legacy items are written while it runs, and it is then stopped
    for i in range(5):
        _put(clients, names.source_table("users"), {"userId": f"live{i}", "email": f"L{i}@x.io"})
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    # Then a --once pass picks up whatever the stopped sync had not applied, and v3 matches
    rest = run_sync(settings, clients, once=True)
    assert results[0].applied + rest.applied == 5
    _assert_v3_matches_legacy(clients, names)


class AlwaysFailsOn:
    """Reports one sequence number as a batch item failure every time (a poison transient error)."""

    def __init__(self, inner, bad_index):
        self.inner, self.bad_index, self.seen = inner, bad_index, []

    def process(self, records):
        self.seen.append([r["dynamodb"]["SequenceNumber"] for r in records])
        bad = [r for r in records if r["dynamodb"]["Keys"]["userId"]["S"] == f"u{self.bad_index}"]
        if not bad:
            return self.inner.process(records)
        cut = records.index(bad[0])
        head = self.inner.process(records[:cut])
        failed = [RecordResult(RecordOutcome.FAILED, error=RuntimeError("poison")) for _ in records[cut:]]
        return BatchResult(list(records), [*head.results, *failed])


def test_a_failing_record_is_retried_with_backoff_then_stops_sync_without_skipping(settings, clients):
    # Given five users, the third of which always fails transiently
    names = settings.names
    for i in range(5):
        _put(clients, names.source_table("users"), {"userId": f"u{i}", "email": f"u{i}@x.io"})
    failing = AlwaysFailsOn(_replicator(settings, clients), bad_index=2)
    # When sync runs with a small retry budget
    with pytest.raises(SyncStalledError, match="failed 3 times"):
        run_sync(
            settings, clients, once=True, replicator=failing, options=SyncOptions(max_attempts=3, base_backoff=0.01)
        )
    # Then each retry restarted at the failed record, and only the records before it were applied
    assert [len(batch) for batch in failing.seen] == [5, 3, 3]
    assert set(_v3(clients, names)) == {("u0", "PROFILE"), ("u1", "PROFILE")}
    # And a restart with the fault gone resumes at the failed record and applies the rest
    result = run_sync(settings, clients, once=True)
    assert result.applied == 3
    _assert_v3_matches_legacy(clients, names)
