"""Whole pipeline, stateful: legacy writes, stream deliveries and a crashing backfill, then the proof.

Hypothesis interleaves legacy puts/updates/deletes (bad items and order userId moves included),
Lambda-shaped stream deliveries through `Replicator.handle` (in order, with partial failures
that are retried later, duplicates and redelivery of old batches) and backfill segments that
run a few pages, stop at a deadline, or crash mid-page and resume. The non-stream writers run
too, each with a legacy mutation of the key it is working on, plus that mutation's replication,
injected before one of its reads or writes (a botocore before-call hook on its client):
`reconcile --repair`, the quarantine sweep, `quarantine redrive`, and a second backfill runner
that saves pages in the middle of another's page. After draining (every record delivered, every
segment finished) the contract must hold: `run_reconcile` is clean and v3, read directly, equals
transform(legacy) for every good item (so no zombie, no rollback), every bad item is in open
quarantine, and no other live v3 item exists.

Runs in-process moto (`mock_aws`) sized for CI (about a minute on a shared 2-core box). Long soak locally:

    CUTOVER_SOAK_EXAMPLES=2000 CUTOVER_SOAK_STEPS=60 .venv/bin/python -m pytest \
        tests/properties/test_pipeline_state_machine.py -q -p no:cacheprovider --timeout 0

and against the moto server over HTTP (slower, exercises the real wire format):

    cutover local &   # or any moto server
    CUTOVER_SOAK_ENDPOINT=http://127.0.0.1:5000 CUTOVER_SOAK_EXAMPLES=200 .venv/bin/python -m pytest \
        tests/properties/test_pipeline_state_machine.py -q --timeout 0
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from moto import mock_aws

from backfill.checkpoint import SegmentCheckpoints
from backfill.segment import run_segment
from cutover.clients import Clients
from cutover.codec import from_ddb, to_ddb
from cutover.settings import Settings
from cutover.state import CheckpointStore
from cutover.tables import Tables
from cutover.transform_errors import TransformError
from cutover_cli.local_backend import init_backend
from migrations.seed.transform import transform
from reconciler.checker import Checker
from reconciler.report import DifferenceSink
from reconciler.run import run_reconcile
from reconciler.sweep import sweep_quarantine
from replicator.handler import Replicator, ReplicatorConfig
from replicator.quarantine import OPEN, QuarantineStore
from replicator.redrive import Redriver

EXAMPLES = int(os.environ.get("CUTOVER_SOAK_EXAMPLES", "80"))
STEPS = int(os.environ.get("CUTOVER_SOAK_STEPS", "40"))
ENDPOINT = os.environ.get("CUTOVER_SOAK_ENDPOINT") or None
SEGMENTS = 2
# A stream label is the stream's creation time: an hour before this run, so it precedes every
# record the machine makes (their creation time is time.time()) on whatever day the suite runs.
STREAM_LABEL = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="milliseconds").removesuffix("+00:00")

USER_IDS = st.sampled_from([f"u{i}" for i in range(5)])
ORDER_IDS = st.sampled_from([f"o{i}" for i in range(5)])
ORDER_USERS = st.sampled_from(["u0", "u1", "u2", "u3", 7, None])  # 7 / None: bad orders
EMAILS = st.sampled_from([" Ann@Example.COM ", "bob@x.org", "c@y", "   ", 42])  # last two: bad
CREATED = st.sampled_from(
    [None, "2024-01-02T03:04:05+02:00", "2024-05-06T07:08:09", 1_700_000_000, 1_700_000_000_123, "yesterday"]
)  # last: bad
SOURCES = st.sampled_from(["users", "orders"])


def _error(code: str) -> tuple[Any, dict[str, Any]]:
    return SimpleNamespace(status_code=400, headers={}), {
        "Error": {"Code": code, "Message": "injected"},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }


class Faults:
    """Fault switches the current example flips; the hooks live on clients shared by all examples."""

    def __init__(self) -> None:
        self.rng = random.Random(0)
        self.fail_rate = 0.0
        self.crash_after: int | None = None
        self.race_after: int | None = None
        self.race: Any = None  # callable(source, key): a legacy change + its delivery, mid-page
        self.path_after: int | None = None  # a non-stream path's call (read or write) before which...
        self.path_action: Any = None  # ...this runs once: callable(operation, params)

    def maybe_throttle(self, **_: Any):
        if self.fail_rate and self.rng.random() < self.fail_rate:
            return _error("ProvisionedThroughputExceededException")
        return None

    def maybe_crash(self, params: dict[str, Any], **_: Any):
        item = json.loads(params["body"]).get("Item", {})
        if self.race_after is not None and "_source" in item:  # a v3 fill, not a checkpoint/quarantine put
            if self.race_after == 0:
                self.race_after = None
                source, _, key = item["_source"]["S"].partition("#")
                self.race(source, key)  # the stream overtakes this very write
            else:
                self.race_after -= 1
        if self.crash_after is not None:
            if self.crash_after == 0:
                return _error("AccessDeniedException")  # non-retryable (not a refusal of the item): the segment dies
            self.crash_after -= 1
        return None

    def maybe_race_path(self, params: dict[str, Any], model: Any, **_: Any):
        if self.path_after is None or model.name not in _PATH_OPERATIONS:
            return None
        body = json.loads(params["body"])
        if not self.path_counts(model.name, body):
            return None
        if self.path_after == 0:
            self.path_after = None
            self.path_action(model.name, body)
        else:
            self.path_after -= 1
        return None

    path_counts: Any = staticmethod(lambda _operation, _body: True)  # which calls count towards path_after


_PATH_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem"})
# Where a race is injected: before the n-th read of v3, of legacy or of quarantine, or before the n-th write
RACE_POINTS = st.sampled_from(["v3-read", "legacy-read", "quarantine-read", "write"])


@lru_cache(maxsize=1)
def _shared() -> tuple[Any, Clients, Any, Faults, Clients]:
    """Clients built once: creating boto3 clients costs ~0.4 s each, far more than an example.

    moto's mock intercepts every client while it is active, whenever the client was created.
    """
    base = Settings(service="prop", region="us-east-1", endpoint_url=ENDPOINT)
    faults = Faults()
    backfill_clients = Clients(base)
    backfill_clients.dynamodb.meta.events.register("before-call.dynamodb.PutItem", faults.maybe_crash)
    replicator_client = Clients(base).dynamodb
    replicator_client.meta.events.register("before-call.dynamodb.PutItem", faults.maybe_throttle)
    path_clients = Clients(base)  # repair, sweep, re-drive and the second backfill runner
    path_clients.dynamodb.meta.events.register("before-call.dynamodb", faults.maybe_race_path)
    return Clients(base).dynamodb, backfill_clients, replicator_client, faults, path_clients


class Pipeline(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.legacy_client, self.backfill_clients, replicator_client, self.faults, self.path_clients = _shared()
        self.faults.rng = random.Random(0)  # same faults on replay: hypothesis needs determinism
        self.mock = None
        if ENDPOINT is None:
            self.mock = mock_aws()
            self.mock.start()
            self.settings = Settings(service="prop", region="us-east-1")
            for spec in self.settings.names.all_specs():
                self.legacy_client.create_table(**spec.create_table_kwargs())
        else:
            self.settings = Settings(service=f"soak{uuid.uuid4().hex[:8]}", region="us-east-1", endpoint_url=ENDPOINT)
            init_backend(self.settings, self.backfill_clients)
        names = self.settings.names
        self.replicator = Replicator(
            ReplicatorConfig.from_names(names, write_concurrency=1), replicator_client
        )  # 1: deterministic fault order
        self.tables = {"users": names.source_table("users"), "orders": names.source_table("orders")}
        self.model: dict[str, dict[str, dict[str, Any]]] = {"users": {}, "orders": {}}
        self.log: dict[str, list[dict[str, Any]]] = {"users": [], "orders": []}
        self.delivered = {"users": 0, "orders": 0}  # log[:n] is applied (Lambda's checkpoint)
        self.seq = itertools.count(1)

    # -- legacy writes, each logged as the stream record DynamoDB would emit ------------------------
    def _write(self, source: str, key: str, new: dict[str, Any] | None) -> None:
        key_name = "userId" if source == "users" else "orderId"
        old = self.model[source].get(key)
        if new is None:
            self.legacy_client.delete_item(TableName=self.tables[source], Key=to_ddb({key_name: key}))
            self.model[source].pop(key)
            event = "REMOVE"
        else:
            self.legacy_client.put_item(TableName=self.tables[source], Item=to_ddb(new))
            self.model[source][key] = new
            event = "INSERT" if old is None else "MODIFY"
        image = {
            "Keys": to_ddb({key_name: key}),
            "SequenceNumber": str(10**20 + next(self.seq)),
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            "ApproximateCreationDateTime": time.time(),
        }
        if old is not None:
            image["OldImage"] = to_ddb(old)
        if new is not None:
            image["NewImage"] = to_ddb(new)
        arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{self.tables[source]}/stream/{STREAM_LABEL}"
        self.log[source].append(
            {
                "eventID": uuid.uuid4().hex,
                "eventName": event,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": image,
                "eventSourceARN": arn,
            }
        )

    @initialize(
        users=st.lists(st.tuples(USER_IDS, EMAILS, CREATED), max_size=5),
        orders=st.lists(st.tuples(ORDER_IDS, ORDER_USERS, CREATED), max_size=5),
    )
    def pre_stream_items(self, users, orders):
        """Items written before the stream existed: only the backfill can bring them to v3."""
        for user, email, created in users:
            item = {"userId": user, "email": email, **({"createdAt": created} if created is not None else {})}
            self.legacy_client.put_item(TableName=self.tables["users"], Item=to_ddb(item))
            self.model["users"][user] = item
        for order, user, created in orders:
            item = {
                "orderId": order,
                **({"userId": user} if user is not None else {}),
                **({"createdAt": created} if created is not None else {}),
            }
            self.legacy_client.put_item(TableName=self.tables["orders"], Item=to_ddb(item))
            self.model["orders"][order] = item

    @rule(user=USER_IDS, email=EMAILS, created=CREATED, plan=st.sampled_from(["free", "pro"]), reserved=st.booleans())
    def put_user(self, user, email, created, plan, reserved):
        item = {"userId": user, "email": email, "plan": plan}
        if created is not None:
            item["createdAt"] = created
        if reserved and plan == "pro":
            item["_secret"] = "x"  # bad: an attribute the transform owns
        self._write("users", user, item)

    @precondition(lambda self: self.model["users"])
    @rule(data=st.data())
    def delete_user(self, data):
        self._write("users", data.draw(st.sampled_from(sorted(self.model["users"]))), None)

    @rule(order=ORDER_IDS, user=ORDER_USERS, created=CREATED, total=st.integers(0, 3))
    def put_order(self, order, user, created, total):
        item: dict[str, Any] = {"orderId": order, "total": total}
        if user is not None:
            item["userId"] = user
        if created is not None:
            item["createdAt"] = created
        self._write("orders", order, item)

    @precondition(lambda self: self.model["orders"])
    @rule(data=st.data(), user=st.sampled_from(["u0", "u1", "u2", "u3"]))
    def move_order(self, data, user):
        order = data.draw(st.sampled_from(sorted(self.model["orders"])))
        self._write("orders", order, {**self.model["orders"][order], "userId": user})

    @precondition(lambda self: self.model["orders"])
    @rule(data=st.data())
    def delete_order(self, data):
        self._write("orders", data.draw(st.sampled_from(sorted(self.model["orders"]))), None)

    # -- stream delivery ------------------------------------------------------------------------------
    def _deliver(self, source: str, records: list[dict[str, Any]]) -> set[str]:
        failures = self.replicator.handle({"Records": records})["batchItemFailures"]
        return {f["itemIdentifier"] for f in failures}

    @rule(source=SOURCES, n=st.integers(1, 6), fail_rate=st.sampled_from([0.0, 0.0, 0.4]), twice=st.booleans())
    def deliver(self, source, n, fail_rate, twice):
        start = self.delivered[source]
        batch = self.log[source][start : start + n]
        if not batch:
            return
        self.faults.fail_rate = fail_rate
        try:
            failed = self._deliver(source, batch)
        finally:
            self.faults.fail_rate = 0.0
        seqs = [r["dynamodb"]["SequenceNumber"] for r in batch]
        # Lambda's ReportBatchItemFailures: checkpoint before the lowest failed record, retry from it
        ok = next((i for i, s in enumerate(seqs) if s in failed), len(batch))
        self.delivered[source] = start + ok
        if twice and ok:
            self._deliver(source, batch[:ok])  # a duplicate delivery of what just succeeded

    @precondition(lambda self: any(self.delivered.values()))
    @rule(source=SOURCES, data=st.data())
    def redeliver_old(self, source, data):
        done = self.delivered[source]
        if not done:
            return
        start = data.draw(st.integers(0, done - 1))
        end = data.draw(st.integers(start + 1, done))
        self._deliver(source, self.log[source][start:end])  # an old batch again: must change nothing

    # -- backfill ------------------------------------------------------------------------------------
    def _segment(
        self,
        source: str,
        segment: int,
        deadline=None,
        clients: Clients | None = None,
        page_size: int = 2,
        segments: int = SEGMENTS,
    ) -> None:
        run_segment(
            self.settings,
            clients or self.backfill_clients,
            table=source,
            segment=segment,
            segments=segments,
            run_id="prop",
            deadline=deadline,
            write_threads=1,
            page_size=page_size,
        )

    @rule(source=SOURCES, segment=st.integers(0, SEGMENTS - 1), pages=st.integers(1, 3))
    def backfill_pages(self, source, segment, pages):
        count = itertools.count()
        self._segment(source, segment, deadline=lambda: 1.0 if next(count) < pages else 0.0)

    @rule(source=SOURCES, segment=st.integers(0, SEGMENTS - 1), after=st.integers(0, 4))
    def backfill_crash(self, source, segment, after):
        self.faults.crash_after = after
        try:
            self._segment(source, segment)
        except Exception as exc:  # noqa: BLE001 - only the injected crash is expected
            assert "injected" in str(exc), exc
        finally:
            self.faults.crash_after = None

    @rule(source=SOURCES, segment=st.integers(0, SEGMENTS - 1), after=st.integers(0, 2), delete=st.booleans())
    def backfill_overtaken_by_stream(self, source, segment, after, delete):
        """Between backfill's Scan of a page and its write of one item, that item changes at the source
        and the stream delivers the change: the backfill now holds stale data and must not write it."""

        def race(race_source: str, key: str) -> None:
            if key in self.model[race_source]:
                self._write(race_source, key, None if delete else {**self.model[race_source][key], "raced": 1})
            self._drain_stream(race_source)

        # --restart this segment first, so it re-reads every item (a finished segment would write nothing)
        SegmentCheckpoints(
            CheckpointStore(self.legacy_client, self.settings.names.checkpoints_table), source, SEGMENTS
        ).reset(segment)
        self.faults.race, self.faults.race_after = race, after
        try:
            self._segment(source, segment)
        finally:
            self.faults.race_after = None

    def _drain_stream(self, source: str) -> None:
        while self.delivered[source] < len(self.log[source]):
            start = self.delivered[source]
            batch = self.log[source][start : start + 10]
            assert not self._deliver(source, batch), "a delivery without injected faults failed"
            self.delivered[source] = start + len(batch)

    # -- non-stream writers, each raced by a change of the key it works on ------------------------------
    def _mutate(self, source: str, key: str, rng: random.Random) -> None:
        """A random legacy change of (source, key) (delete, good or bad update, order move), then its delivery."""
        current = self.model[source].get(key)
        choice = rng.choice(["delete", "update", "bad", "move"])
        if choice == "delete" and current is not None:
            self._write(source, key, None)
        elif source == "users":
            email = "bad" if choice == "bad" else rng.choice(["ann@example.com", "bob@x.org"])
            self._write(source, key, {"userId": key, "email": email if email != "bad" else 42, "plan": "raced"})
        else:
            user = 7 if choice == "bad" else rng.choice(["u0", "u1", "u2", "u3"])
            self._write(source, key, {**(current or {}), "orderId": key, "userId": user, "total": rng.randint(0, 3)})
        self._drain_stream(source)

    def _race_key(self, params: dict[str, Any]) -> tuple[str, str] | None:
        """The legacy (source, key) a request of a non-stream path is about."""
        table, key = params.get("TableName"), from_ddb(params.get("Key") or params.get("Item") or {})
        names = self.settings.names
        if table == names.source_table("users") and "userId" in key:
            return "users", str(key["userId"])
        if table == names.source_table("orders") and "orderId" in key:
            return "orders", str(key["orderId"])
        if table == names.v3_table and "recordType" in key:
            record_type = str(key["recordType"])
            return ("users", str(key["userId"])) if record_type == "PROFILE" else ("orders", record_type[6:])
        if table == names.quarantine_table and "pk" in key and key["pk"] in self.tables:
            return str(key["pk"]), str(key["sk"])
        return None

    def _point(self, at: str):
        names = self.settings.names
        legacy = {names.source_table("users"), names.source_table("orders")}

        def counts(operation: str, body: dict[str, Any]) -> bool:
            table = body.get("TableName")
            if at == "write":
                return operation != "GetItem" and table in (names.v3_table, names.quarantine_table)
            if operation != "GetItem":
                return False
            wanted = {"v3-read": {names.v3_table}, "legacy-read": legacy, "quarantine-read": {names.quarantine_table}}
            return table in wanted[at]

        return counts

    def _raced(self, at: str, after: int, seed: int, run: Any) -> None:
        """Run a non-stream path with one legacy change + its replication injected before its `after`-th
        call of kind `at` (a read of v3, of legacy, of quarantine, or a write)."""
        rng = random.Random(seed)
        self.faults.path_counts = self._point(at)

        def action(_operation: str, params: dict[str, Any]) -> None:
            target = self._race_key(params)
            if target is not None:
                self._mutate(*target, rng)

        self.faults.path_after, self.faults.path_action = after, action
        try:
            run()
        finally:
            self.faults.path_after = None
            self.faults.path_counts = Faults.path_counts
        for source in ("users", "orders"):
            self._drain_stream(source)
        self._check_v3_directly(partial=True)  # at once: a later step could otherwise mask a zombie

    @rule(at=RACE_POINTS, after=st.integers(0, 4), seed=st.integers(0, 2**16))
    def reconcile_repair(self, at, after, seed):
        self._raced(
            at,
            after,
            seed,
            lambda: run_reconcile(
                self.settings, self.path_clients, segments=SEGMENTS, workers=1, repair=True, record=False
            ),
        )

    @rule(at=RACE_POINTS, after=st.integers(0, 3), seed=st.integers(0, 2**16))
    def quarantine_sweep(self, at, after, seed):
        checker = Checker(
            self.path_clients.dynamodb, Tables.from_names(self.settings.names), DifferenceSink(None), repair=False
        )
        self._raced(at, after, seed, lambda: sweep_quarantine(checker, None))

    @rule(at=RACE_POINTS, after=st.integers(0, 3), seed=st.integers(0, 2**16))
    def quarantine_redrive(self, at, after, seed):
        redriver = Redriver(self.path_clients.dynamodb, self.settings.names)

        def run() -> None:
            for entry in list(redriver.quarantine.entries()):
                redriver.redrive(entry)

        self._raced(at, after, seed, run)

    @rule(source=SOURCES, at_save=st.integers(0, 2), pages=st.integers(1, 4), pages_a=st.integers(1, 3))
    def second_backfill(self, source, at_save, pages, pages_a):
        """Two runners on one segment: runner B saves `pages` pages just before runner A's `at_save`-th
        checkpoint save; A runs `pages_a` pages. One page per item and one segment for the whole table
        (its own checkpoint layout), so there are enough pages to race on."""
        checkpoints = SegmentCheckpoints(
            CheckpointStore(self.legacy_client, self.settings.names.checkpoints_table), source, 1
        )
        checkpoints.reset(0)  # both runners start from scratch
        after_b = []

        def runner_b(_operation: str, _params: dict[str, Any]) -> None:
            count = itertools.count()
            self._segment(source, 0, deadline=lambda: 1.0 if next(count) < pages else 0.0, page_size=1, segments=1)
            after_b.append(checkpoints.load(0))

        table = self.settings.names.checkpoints_table
        self.faults.path_counts = lambda operation, body: operation == "PutItem" and body.get("TableName") == table
        self.faults.path_after, self.faults.path_action = at_save, runner_b
        try:
            count_a = itertools.count()
            self._segment(
                source,
                0,
                deadline=lambda: 1.0 if next(count_a) < pages_a else 0.0,
                clients=self.path_clients,
                page_size=1,
                segments=1,
            )
        finally:
            self.faults.path_after = None
            self.faults.path_counts = Faults.path_counts
        # progress is monotonic: runner A never moves the checkpoint behind what runner B stored
        stored = checkpoints.load(0)
        for seen in after_b:
            assert stored.done or not seen.done, "a finished segment went back to unfinished"
            assert stored.counts["scanned"] >= seen.counts["scanned"], (stored.counts, seen.counts)

    # -- drain and prove -----------------------------------------------------------------------------
    def teardown(self) -> None:
        try:
            self._drain_and_check()
        finally:
            self.replicator.close()
            if self.mock is not None:
                self.mock.stop()

    def _drain_and_check(self) -> None:
        for source in ("users", "orders"):
            self._drain_stream(source)
            for segment in range(SEGMENTS):
                self._segment(source, segment)
        report = run_reconcile(self.settings, self.backfill_clients, segments=SEGMENTS, workers=2, record=False)
        assert report.clean, [d.to_dict() for d in report.shown]
        self._check_v3_directly()
        # and after that reconcile (its sweep), quarantine holds exactly the bad items: nothing blocks the flip
        store = QuarantineStore(self.legacy_client, self.settings.names.quarantine_table)
        open_keys = {(e.source, e.key) for e in store.entries()}
        bad = {(s, k) for s, items in self.model.items() for k, i in items.items() if not _good(s, i)}
        assert open_keys == bad, (open_keys, bad)

    def _check_v3_directly(self, partial: bool = False) -> None:
        """v3 == transform(legacy) and every bad item is in open quarantine. `partial` (mid-run, stream
        drained but backfill not finished): only items the stream carried must be there; nothing else
        may be live or wrong (no zombie, no stale location, no rolled-back update)."""
        ddb = self.legacy_client
        live = {}
        for page in ddb.get_paginator("scan").paginate(TableName=self.settings.names.v3_table, ConsistentRead=True):
            for item in map(from_ddb, page["Items"]):
                if not item.get("_deleted"):
                    live[(item["userId"], item["recordType"])] = {
                        k: v for k, v in item.items() if not k.startswith("_")
                    }
        quarantine = QuarantineStore(ddb, self.settings.names.quarantine_table)
        expected, streamed = {}, set()
        for source, items in self.model.items():
            keys_in_stream = {str(from_ddb(r["dynamodb"]["Keys"]).popitem()[1]) for r in self.log[source]}
            for key, item in items.items():
                if partial and key not in keys_in_stream:
                    continue  # only backfill brings it: may be absent mid-run, and is not quarantined yet
                try:
                    out = transform(source, item)[0]
                except TransformError:
                    entry = quarantine.get(source, key)
                    assert entry is not None and entry.status == OPEN, f"bad {source} {key} is not in open quarantine"
                    continue
                expected[(out["userId"], out["recordType"])] = out
                streamed.add((out["userId"], out["recordType"]))
        if partial:
            pre_stream = {k: v for k, v in live.items() if k not in streamed}
            for item in pre_stream.values():  # a live item no stream record explains: must be current
                assert item in [
                    transform(s, i)[0] for s, its in self.model.items() for i in its.values() if _good(s, i)
                ]
            live = {k: v for k, v in live.items() if k in streamed}
        assert live == expected


def _good(source: str, item: dict[str, Any]) -> bool:
    try:
        transform(source, item)
    except TransformError:
        return False
    return True


Pipeline.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
TestPipeline = Pipeline.TestCase
