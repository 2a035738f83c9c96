"""Faults: throttling on every call type and UnprocessedKeys on batch reads; the result stays exact.

Also runs the whole backfill + reconcile under `LimitGuard`, so any request AWS would reject for
its size (moto would not) fails the test.
"""

from __future__ import annotations

import random
import threading
from types import SimpleNamespace

import pytest
from request_limits import LimitGuard

from backfill.runner import run_backfill
from cutover.codec import from_ddb, to_ddb
from migrations.seed.transform import transform
from reconciler.run import run_reconcile

THROTTLED = ("PutItem", "Scan", "GetItem", "BatchGetItem", "UpdateItem")


class Faults:
    """Throttle a fraction of calls before they are sent; push a fraction of batch-read results back
    into UnprocessedKeys after they return (what DynamoDB does under load or past 16 MB)."""

    def __init__(self, rate: float, seed: int = 7) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.throttled = 0
        self.unprocessed = 0

    def _roll(self) -> bool:
        with self.lock:
            return self.rng.random() < self.rate

    def install(self, client) -> Faults:
        for op in THROTTLED:
            client.meta.events.register(f"before-call.dynamodb.{op}", self.throttle)
        client.meta.events.register("after-call.dynamodb.BatchGetItem", self.defer_keys)
        return self

    def throttle(self, model, **_):
        if not self._roll():
            return None
        with self.lock:
            self.throttled += 1
        body = {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return SimpleNamespace(status_code=400, headers={}), body

    def defer_keys(self, parsed, **_):
        for table, items in parsed.get("Responses", {}).items():
            keep, defer = [], []
            for item in items:
                (defer if self._roll() else keep).append(item)
            if defer:
                names = (
                    ("userId", "recordType")
                    if table.endswith("-v3")
                    else ("orderId",)
                    if table.endswith("-orders")
                    else ("userId",)
                )
                parsed["Responses"][table] = keep
                parsed.setdefault("UnprocessedKeys", {}).setdefault(table, {"Keys": []})["Keys"] += [
                    {n: i[n] for n in names} for i in defer
                ]
                with self.lock:
                    self.unprocessed += len(defer)


@pytest.fixture
def env(aws_memory):
    return aws_memory


@pytest.mark.parametrize("method", ["pages", "merge"])
def test_backfill_and_reconcile_are_exact_under_throttling_and_unprocessed_keys(env, tmp_path, method):
    # (pages: the segment Lambda's check, which BatchGets; merge: the full local run, which only Scans)
    settings, clients = env
    ddb = clients.dynamodb
    # Given 150 users and 150 orders (3 bad) in legacy
    for i in range(150):
        ddb.put_item(
            TableName=settings.names.source_table("users"), Item=to_ddb({"userId": f"u{i}", "email": f"u{i}@x", "n": i})
        )
        ddb.put_item(
            TableName=settings.names.source_table("orders"),
            Item=to_ddb({"orderId": f"o{i}", "userId": f"u{i % 40}" if i % 50 else 7}),
        )
    # And 25% of calls throttled, 25% of batch-read results deferred, every request size-checked
    faults = Faults(0.25).install(ddb)
    guard = LimitGuard().install(ddb)
    # When backfill then reconcile run
    summary = run_backfill(settings, clients, segments=4, workers=4, write_threads=8, require_sync=False)
    # (one segment: a 150-item page, so batch reads must be split at 100 keys)
    report = run_reconcile(
        settings, clients, segments=1, workers=1, report_path=str(tmp_path / "r.json"), method=method
    )
    # Then faults really happened, nothing was dropped and reconcile proves v3 exact
    assert faults.throttled > 50
    if method == "pages":
        assert faults.unprocessed > 50
    else:  # the merge reads a clean table by Scan alone: no batch reads at all
        assert faults.unprocessed == 0 and guard.calls.get("BatchGetItem", 0) == 0
    assert summary.complete
    assert (
        summary.tables["users"].written,
        summary.tables["orders"].written,
        summary.tables["orders"].quarantined,
    ) == (150, 147, 3)
    assert report.clean and report.counts["compared"] == 300 and report.counts["quarantined"] == 3
    assert report.counts["v3_checked"] == 297
    # And no request exceeded an AWS limit
    assert guard.violations == []
    if method == "pages":
        assert guard.calls.get("BatchGetItem", 0) > 0
    # And v3 holds exactly the transform of each good legacy item (checked without the reconciler)
    ddb.meta.events.unregister("before-call.dynamodb.Scan", faults.throttle)
    v3 = {
        (i["userId"], i["recordType"]): i
        for p in ddb.get_paginator("scan").paginate(TableName=settings.names.v3_table)
        for i in map(from_ddb, p["Items"])
    }
    order = {k: v for k, v in v3[("u1", "ORDER#o1")].items() if not k.startswith("_")}
    assert order == transform("orders", {"orderId": "o1", "userId": "u1"})[0]
