"""PositionStore's read interface (has_run, lag_seconds, summary) and sync's percentile, without a backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cutover.clock import iso
from replicator.poller.lambda_events import to_lambda_record
from replicator.poller.sync_stats import percentile
from replicator.positions import PositionStore

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)  # fixed-date: the injected clock (PositionStore(clock=...))


class MemoryStore:
    """CheckpointStore's interface over a dict."""

    def __init__(self):
        self.docs = {}

    def get(self, pk, sk):
        return self.docs.get((pk, sk))

    def put(self, pk, sk, data):
        self.docs[(pk, sk)] = dict(data)

    def put_if(self, pk, sk, data, extra, condition, values):
        """The monotonic rule `save_shard` asks DynamoDB to enforce: sequence never lower, done never undone."""
        old = self.docs.get((pk, sk))
        if old is not None and (old["_extra"]["posSeq"] > extra["posSeq"] or (old["done"] and not data["done"])):
            return False
        self.docs[(pk, sk)] = {**data, "_extra": dict(extra)}
        return True

    def query(self, pk):
        return {sk: d for (p, sk), d in self.docs.items() if p == pk}


def test_never_run_means_no_lag_and_no_summary():
    positions = PositionStore(MemoryStore(), clock=lambda: NOW)
    assert not positions.has_run("users") and positions.lag_seconds() is None and positions.summary() == []


def test_lag_is_age_of_what_v3_is_known_to_hold_and_grows_while_sync_is_stopped():
    store = MemoryStore()
    positions = PositionStore(store, clock=lambda: NOW)
    # Given users caught up 5 s ago and orders' newest applied record created 30 s ago (not caught up)
    positions.save_meta("users", {"table": "t-users", "caught_up_at": iso(NOW - timedelta(seconds=5)), "shards": 1})
    positions.save_meta(
        "orders",
        {"table": "t-orders", "last_record_created_at": iso(NOW - timedelta(seconds=30)), "last_sequence": "42"},
    )
    positions.save_shard("t-users", "s1", stream_arn="a", sequence="1", closed=False, done=False,
                         caught_up_at=NOW - timedelta(seconds=5))  # fmt: skip
    positions.save_shard("t-orders", "s2", stream_arn="a", sequence="42", closed=False, done=False,
                         applied_created_at=NOW - timedelta(seconds=30))  # fmt: skip
    # Then the lag is the older of the two, and both tables are summarised
    assert positions.has_run("users") and positions.has_run("orders")
    assert positions.lag_seconds() == 30.0
    rows = {r["source"]: r for r in positions.summary()}
    assert rows["orders"]["last_sequence"] == "42" and rows["users"]["shards"] == 1
    # And an hour later, with sync stopped, the lag has grown by an hour
    later = PositionStore(store, clock=lambda: NOW + timedelta(hours=1))
    assert later.lag_seconds() == 3630.0


def test_shard_positions_round_trip():
    positions = PositionStore(MemoryStore(), clock=lambda: NOW)
    positions.save_shard("t-users", "shard-1", stream_arn="arn", sequence="7", closed=True, done=True)
    saved = positions.shard_positions("t-users")["shard-1"]
    assert (saved["sequence"], saved["closed"], saved["done"], saved["stream_arn"]) == ("7", True, True, "arn")


def test_getrecords_record_becomes_lambda_shaped():
    # Given a record as boto3's GetRecords returns it (datetime creation time, no ARN)
    record = {
        "eventID": "e",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=UTC),  # fixed-date: conversion input
            "SequenceNumber": "1",
            "Keys": {},
        },
    }
    out = to_lambda_record(record, "arn:aws:dynamodb:us-east-1:1:table/t/stream/2026", "us-east-1")
    # Then it carries the stream ARN and an epoch-seconds number, like Lambda's
    assert out["eventSourceARN"].endswith("/stream/2026")
    assert (  # fixed-date: conversion output
        out["dynamodb"]["ApproximateCreationDateTime"] == 1767225600
        and "ApproximateCreationDateTime" in record["dynamodb"]
    )


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50 and percentile(values, 0.99) == 99 and percentile([], 0.5) is None
