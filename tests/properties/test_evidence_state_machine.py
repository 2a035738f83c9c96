"""Sync evidence and the flip gate, stateful: whatever interleaving, the gate never vouches for a wrong v3.

The machine runs once per shipped migration (the seed and the catalog: composite keys, a
fan-out, a transform secret stored in SSM at its pinned version), its legacy items drawn from
the definition's own strategies (tests/properties/migration_items.py), its invariants stated by
the definition's keys and transform. Hypothesis interleaves legacy writes (each also appended to
the streams double, which behaves as AWS documents: empty pages, trimming, split shards,
disable/re-enable with the old stream still readable), `run_sync --once`, a second consumer
replaying an old range and trying to save its older position, trimming of an unread range,
backfill, full reconciles (with and without --repair) whose start and recording interleave, and
flips (with a concurrent rollback racing a flip to v3). DynamoDB, SSM, SQS and CloudWatch are
in-process moto (`mock_aws`).

Invariants after every step:
- a CLEAN, caught-up, gate-allowed state implies v3 == transform(legacy): whenever the gate would
  allow v3 and every legacy write has been through a sync pass, v3 read directly equals the
  transform of every legacy item, by target key (every item of a fan-out; live v3 items, `_`
  attributes ignored);
- recorded evidence never moves backwards: shard positions (sequence, done), the latest
  reconcile's start time, the flip control version;
- a shadow mismatch the API recorded (interleaved with reconciles that start, and record, before
  or after it) refuses v3 unless a full, clean reconcile recorded so far STARTED after it. The
  phase's time and comparison counts are taken as met here (tests/shadow_world.py): they are
  the shadow rule's own tests' subject, and with them unmet the gate would never allow v3.

The double trims at once where AWS trims a record 24 h after it was written; the first invariant
therefore skips a gate allowed on a reconcile that finished before the newest trimmed record was
written (by then that reconcile is past the gate's 24 h age limit).

CI size: 6 examples per migration of up to 25 steps, each starting with up to 4 legacy items,
half of them from a proven gate (about 20 s per migration, 41 s for both where the seed alone ran
10 examples in 37 s; `--hypothesis-show-statistics` shows the share of examples with a
comparison: 2 in 3). Soak locally with:

    CUTOVER_EVIDENCE_EXAMPLES=500 CUTOVER_EVIDENCE_STEPS=40 .venv/bin/python -m pytest \
        tests/properties/test_evidence_state_machine.py -q -p no:cacheprovider --timeout 0
"""

from __future__ import annotations

import dataclasses
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from moto import mock_aws

from backfill.runner import run_backfill
from controlplane.evidence import Stores
from controlplane.flag import ReadSource
from controlplane.flipper import FlipConflictError, FlipSupersededError, flip
from controlplane.gate import evaluate
from controlplane.shadow_evidence import Batch, Mismatch, ShadowStore
from cutover.clients import Clients
from cutover.clock import iso, utc_now
from cutover.codec import from_ddb, to_ddb
from cutover.migration import Migration
from cutover.settings import Settings
from cutover.state import FLIP, RECONCILE, CheckpointStore
from reconciler.run import record_report, run_reconcile
from replicator.handler import Replicator, ReplicatorConfig
from replicator.poller.lambda_events import to_lambda_event
from replicator.poller.shard_reader import EMPTY_PAGES
from replicator.poller.sync import SyncOptions, run_sync
from replicator.positions import PositionStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from shadow_world import complete_reading  # tests/ is on sys.path (not a package)
from streams_double import StreamsDouble

sys.path.insert(0, str(Path(__file__).resolve().parent))
from migration_items import MIGRATIONS, SECRET_VALUE, pool, secrets_of

EXAMPLES = int(os.environ.get("CUTOVER_EVIDENCE_EXAMPLES", "6"))  # per migration
STEPS = int(os.environ.get("CUTOVER_EVIDENCE_STEPS", "25"))
KEYS, VERSIONS = 4, 3  # per source: 4 keys, 3 good versions of the item under each
POOLS = {spec: pool(spec, KEYS, VERSIONS) for spec in MIGRATIONS.values()}
FAST = SyncOptions(poll_interval=0.0)


class _Clients:
    """Real (moto) DynamoDB and SSM, the double for DynamoDB Streams."""

    def __init__(self, real: Clients, streams: StreamsDouble) -> None:
        self.dynamodb, self.ssm, self.streams, self.region = real.dynamodb, real.ssm, streams, "us-east-1"


@lru_cache(maxsize=1)
def _real() -> Clients:
    return Clients(Settings(service="evid", region="us-east-1"))


class EvidenceMachine(RuleBasedStateMachine):
    """The machine over one migration: a subclass names it in SPEC."""

    SPEC = ""

    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        self.settings = Settings(service="evid", region="us-east-1", migration=self.SPEC)
        self.real = _real()
        names = self.settings.names
        self.migration: Migration = names.migration
        self.pool = POOLS[self.SPEC]
        for spec in names.all_specs():
            self.real.dynamodb.create_table(**spec.create_table_kwargs())
        self.real.ssm.put_parameter(Name=names.read_source_parameter, Value="legacy", Type="String", Overwrite=True)
        for secret in self.migration.secrets:  # version 1: the pinned version of every shipped secret
            self.real.ssm.put_parameter(
                Name=secret.parameter_name(names.service, names.stage), Value=SECRET_VALUE, Type="SecureString"
            )
        for role in names.roles:  # the gate reads the on-failure queues (empty here: no batch is discarded)
            self.real.sqs.create_queue(QueueName=names.failure_queue(role))
        self.double = StreamsDouble()
        for role in names.roles:
            self.double.enable(names.source_table(role))
        self.clients = _Clients(self.real, self.double)
        self.model: dict[str, dict[str, Any]] = {role: {} for role in names.roles}  # role -> key text -> item
        self.synced = True  # every legacy write has been through a sync pass
        self.pending: list[Any] = []  # reconciles that ran but have not recorded yet
        self.seen_positions: dict[str, tuple[int, bool]] = {}  # '<table> <shard>' -> (sequence, done)
        self.seen_reconcile = ""
        self.seen_version = 0
        self.mismatch_at = ""  # the newest shadow mismatch the API recorded
        self.clean_starts: list[str] = []  # start times of the full, clean reconciles recorded
        # The write time of the newest record trimmed so far. The double trims at once; AWS trims a
        # record only 24 h after it was written, so a reconcile that finished before that time is
        # older than the gate's 24 h age limit by the time anything is trimmed.
        self.aged_out = ""

    def teardown(self) -> None:
        self.mock.stop()

    @initialize(
        items=st.lists(
            st.tuples(st.integers(0, 1), st.integers(0, KEYS - 1), st.integers(0, VERSIONS - 1)), max_size=4
        ),
        proven=st.booleans(),
    )
    def start(self, items: list[tuple[int, int, int]], proven: bool) -> None:
        """Legacy already holds a few items (so replays, trims and re-writes have records to act on),
        and half the runs start where the operator has just proved the gate: the region where the key
        invariant compares v3 with legacy, which a run otherwise reaches by chance after a dozen steps."""
        for role, key, version in items:
            self._put(self.settings.names.roles[role % len(self.settings.names.roles)], key, version)
        if proven:
            self.catch_up_and_prove(repair=False)

    def _role(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(self.settings.names.roles), label="role")

    def _keys(self, role: str, item: dict[str, Any]) -> dict[str, Any]:
        return dict(zip(self.migration.source(role).key_names, self.migration.source_key(role, item), strict=True))

    # --- legacy writes and the stream ---------------------------------------------------------------
    def _put(self, role: str, key: int, version: int) -> None:
        new = self.pool[role][key][version % len(self.pool[role][key])]
        text = self.migration.source_key_text(role, new)
        table, old = self.settings.names.source_table(role), self.model[role].get(text)
        self.real.dynamodb.put_item(TableName=table, Item=to_ddb(new))
        self.double.put(table, self._keys(role, new), new, old)
        self.model[role][text], self.synced = new, False

    @rule(data=st.data(), key=st.integers(0, KEYS - 1), version=st.integers(0, VERSIONS - 1))
    def write(self, data: st.DataObject, key: int, version: int) -> None:
        """A put: a new item, or under a key legacy holds an update (target keys may move, a fan-out change)."""
        self._put(self._role(data), key, version)

    @rule(data=st.data(), key=st.integers(0, KEYS - 1))
    def delete(self, data: st.DataObject, key: int) -> None:
        role = self._role(data)
        text = self.migration.source_key_text(role, self.pool[role][key][0])
        if text not in self.model[role]:
            return
        old, table = self.model[role].pop(text), self.settings.names.source_table(role)
        self.real.dynamodb.delete_item(TableName=table, Key=to_ddb(self._keys(role, old)))
        self.double.put(table, self._keys(role, old), None, old)
        self.synced = False

    @rule(pages=st.integers(0, EMPTY_PAGES - 1))
    def empty_pages(self, pages: int) -> None:
        """Empty pages before records, below sync's documented bound (DESIGN.md: caught-up rule)."""
        self.double.empty_pages = pages

    @rule(data=st.data())
    def split(self, data: st.DataObject) -> None:
        self.double.split(self.settings.names.source_table(self._role(data)))

    @rule(data=st.data())
    def disable_and_reenable(self, data: st.DataObject) -> None:
        table = self.settings.names.source_table(self._role(data))
        self.double.disable(table)
        self.double.enable(table)

    @rule(data=st.data())
    def trim_unread(self, data: st.DataObject) -> None:
        """24 h pass on an unread range: the open shard loses everything sync has not read."""
        stream = self.double.latest(self.settings.names.source_table(self._role(data)))
        shard = stream.open_shard()
        if shard.records:
            newest = max(r["dynamodb"]["ApproximateCreationDateTime"] for r in shard.records)
            self.aged_out = max(self.aged_out, iso(newest))
            self.double.trim(stream.arn, shard.shard_id, upto=shard.records[-1]["dynamodb"]["SequenceNumber"])

    # --- consumers ------------------------------------------------------------------------------------
    @rule()
    def sync(self) -> None:
        run_sync(self.settings, self.clients, once=True, options=FAST)
        self.synced = True

    @rule(data=st.data())
    def second_consumer_replays(self, data: st.DataObject) -> None:
        """Another process applies an old range of a shard and tries to save its (older) position."""
        table = self.settings.names.source_table(self._role(data))
        stream = self.double.latest(table)
        shard = stream.open_shard()
        if not shard.records:
            return
        end = data.draw(st.integers(1, len(shard.records)))
        records = shard.records[:end]
        replicator = Replicator(ReplicatorConfig.from_names(self.settings.names), self.real.dynamodb)
        try:
            replicator.handle(to_lambda_event(records, stream.arn, "us-east-1"))
        finally:
            replicator.close()
        positions = PositionStore(
            CheckpointStore(self.real.dynamodb, self.settings.names.checkpoints_table), consumer="B"
        )
        positions.save_shard(table, shard.shard_id, stream_arn=stream.arn,
                             sequence=records[-1]["dynamodb"]["SequenceNumber"], closed=False, done=False)  # fmt: skip

    # --- backfill, reconcile, flips -------------------------------------------------------------------
    @rule()
    def backfill(self) -> None:
        run_backfill(self.settings, self.real, segments=1, workers=1, require_sync=False)

    @rule(repair=st.booleans(), record_now=st.booleans())
    def reconcile(self, repair: bool, record_now: bool) -> None:
        report = run_reconcile(self.settings, self.real, segments=1, workers=1, repair=repair, record=False)
        if record_now:
            self._record(report)
        else:
            self.pending.append(report)

    def _record(self, report: Any) -> None:
        record_report(Stores.build(self.settings, self.real).reports, report)
        if report.clean and report.sample is None:
            self.clean_starts.append(report.started_at)

    @rule(repair=st.booleans())
    def catch_up_and_prove(self, repair: bool) -> None:
        """The operator's path to the gate: sync, backfill, sync, full reconcile, recorded."""
        self.sync()
        self.backfill()
        self.sync()
        self.reconcile(repair, record_now=True)

    @precondition(lambda self: bool(self.pending))
    @rule()
    def reconcile_records_late(self) -> None:
        self._record(self.pending.pop(0))

    @rule(data=st.data(), key=st.integers(0, KEYS - 1))
    def shadow_read_mismatches(self, data: st.DataObject, key: int) -> None:
        """The API, on shadow, finds v3 differing from transform(legacy) on a key (what it records)."""
        role = self._role(data)
        keys, at = self._keys(role, self.pool[role][key][0]), utc_now()
        batch = Batch(mismatches={(role, str(keys)): Mismatch(role, keys, ["a"], at, at, 1, "1")})
        ShadowStore(self.real.dynamodb, self.settings.names.api_table).write(batch)
        self.mismatch_at = max(self.mismatch_at, at)

    @rule(to=st.sampled_from([ReadSource.LEGACY, ReadSource.SHADOW, ReadSource.V3]))
    def flip_to(self, to: ReadSource) -> None:
        flip(Stores.build(self.settings, self.real), to, "prop")

    @rule()
    def rollback_races_a_v3_flip(self) -> None:
        a, b = Stores.build(self.settings, self.real), Stores.build(self.settings, self.real)
        gather = a.evidence

        def racing(**kwargs: Any) -> Any:
            flip(b, ReadSource.LEGACY, "B")
            return gather(**kwargs)

        a.evidence = racing  # type: ignore[method-assign]
        try:
            flip(a, ReadSource.V3, "A")
        except FlipConflictError:
            pass
        flag = Stores.build(self.settings, self.real).flag
        assert flag.get() == "legacy", "a rollback made during a v3 flip's evaluation was undone"

    @rule()
    def rollback_lands_after_a_won_claim(self) -> None:
        # A has claimed its v3 flip (readers obey it) and B rolls back before A writes the SSM mirror
        a, b = Stores.build(self.settings, self.real), Stores.build(self.settings, self.real)
        write_mirror = a.flag.set_mirror

        def late(value: str) -> None:
            a.flag.set_mirror = write_mirror  # type: ignore[method-assign]
            flip(b, ReadSource.LEGACY, "B")
            write_mirror(value)

        a.flag.set_mirror = late  # type: ignore[method-assign]
        try:
            flip(a, ReadSource.V3, "A", force=True, reason="the race")
        except FlipSupersededError:
            pass
        latest = a.reports.latest(FLIP) or {}
        assert (a.flag.get(), a.flag.mirror(), latest.get("to")) == ("legacy",) * 3, "the late flip undid a rollback"

    # --- invariants -------------------------------------------------------------------------------------
    @invariant()
    def gate_allowed_means_v3_is_right(self) -> None:
        stores = Stores.build(self.settings, self.real)
        if not self.synced or not self._allowed(stores):
            return
        if (stores.reports.latest(RECONCILE) or {}).get("finished_at", "") <= self.aged_out:
            event("the gate allowed v3 on a reconcile that 24 h of trimming would have aged out: not compared")
            return
        event("the gate allowed v3: v3 compared with transform(legacy)")
        m, live = self.migration, {}
        pages = self.real.dynamodb.get_paginator("scan").paginate(TableName=self.settings.names.v3_table,
                                                                 ConsistentRead=True)  # fmt: skip
        for item in (from_ddb(raw) for page in pages for raw in page["Items"]):
            if not item.get("_deleted"):
                live[m.target_key(item)] = {k: v for k, v in item.items() if not k.startswith("_")}
        expected = {}
        for role, items in self.model.items():
            for item in items.values():
                for out in m.transform(role, item, secrets_of(m)):
                    expected[m.target_key(out)] = out
        assert live == expected, "the gate allowed v3 while v3 differs from transform(legacy)"

    def _allowed(self, stores: Stores) -> bool:
        """The gate's verdict on what is recorded, the shadow phase's time and counts taken as met."""
        evidence = stores.evidence(current_flag="shadow")
        found = evidence.shadow.mismatches if evidence.shadow else ()
        shadow = dataclasses.replace(complete_reading(evidence.now), mismatches=found)
        return evaluate("v3", dataclasses.replace(evidence, shadow=shadow)).allowed

    @invariant()
    def an_unexplained_shadow_mismatch_refuses_v3(self) -> None:
        if not self.mismatch_at or not self._allowed(Stores.build(self.settings, self.real)):
            return
        event("the gate allowed v3 after a shadow mismatch")
        assert any(start > self.mismatch_at for start in self.clean_starts), (
            "the gate allowed v3 while no full, clean reconcile started after the last shadow mismatch"
        )

    @invariant()
    def evidence_never_moves_backwards(self) -> None:
        names = self.settings.names
        positions = PositionStore(CheckpointStore(self.real.dynamodb, names.checkpoints_table))
        for table in map(names.source_table, names.roles):
            for shard, doc in positions.shard_positions(table).items():
                now = (int(doc.get("sequence") or 0), bool(doc.get("done")))
                before = self.seen_positions.get(f"{table} {shard}", (0, False))
                assert now[0] >= before[0] and (now[1] or not before[1]), f"position of {table} {shard} moved back"
                self.seen_positions[f"{table} {shard}"] = now
        reports = Stores.build(self.settings, self.real).reports
        started = (reports.latest(RECONCILE) or {}).get("started_at") or ""
        assert started >= self.seen_reconcile, "the latest reconcile moved back in start order"
        self.seen_reconcile = started
        version, _ = reports.control(FLIP)
        assert version >= self.seen_version
        self.seen_version = version


class SeedEvidence(EvidenceMachine):
    SPEC = MIGRATIONS["seed"]


class CatalogEvidence(EvidenceMachine):
    SPEC = MIGRATIONS["catalog"]


SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
SeedEvidence.TestCase.settings = SETTINGS
CatalogEvidence.TestCase.settings = SETTINGS
TestEvidenceSeed = SeedEvidence.TestCase
TestEvidenceCatalog = CatalogEvidence.TestCase
