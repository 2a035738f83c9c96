"""Sync evidence and the flip gate, stateful: whatever interleaving, the gate never vouches for a wrong v3.

Hypothesis interleaves legacy writes (each also appended to the streams double, which behaves as
AWS documents: empty pages, trimming, split shards, disable/re-enable with the old stream still
readable), `run_sync --once`, a second consumer replaying an old range and trying to save its
older position, trimming of an unread range, backfill, full reconciles (with and without
--repair) whose start and recording interleave, and flips (with a concurrent rollback racing a
flip to v3). DynamoDB, SSM, SQS and CloudWatch are in-process moto (`mock_aws`).

Invariants after every step:
- a CLEAN, caught-up, gate-allowed state implies v3 == transform(legacy): whenever the gate would
  allow v3 and every legacy write has been through a sync pass, v3 read directly equals the
  transform of every legacy item (live v3 items, `_` attributes ignored);
- recorded evidence never moves backwards: shard positions (sequence, done), the latest
  reconcile's start time, the flip control version.

The double trims at once where AWS trims a record 24 h after it was written; the first invariant
therefore skips a gate allowed on a reconcile that finished before the newest trimmed record was
written (by then that reconcile is past the gate's 24 h age limit).

CI size: 10 examples of up to 25 steps, each starting with up to 4 users in legacy, half of them
from a proven gate (about 30 s of CPU; the first invariant compares v3 with legacy some 70-125
times a run, where 10 x 14 steps from nothing compared 25-45 times; `--hypothesis-show-statistics`
shows the share of examples with a comparison). Soak locally with:

    CUTOVER_EVIDENCE_EXAMPLES=500 CUTOVER_EVIDENCE_STEPS=40 .venv/bin/python -m pytest \
        tests/properties/test_evidence_state_machine.py -q -p no:cacheprovider --timeout 0
"""

from __future__ import annotations

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
from cutover.clients import Clients
from cutover.clock import iso
from cutover.codec import from_ddb, to_ddb
from cutover.settings import Settings
from cutover.state import FLIP, RECONCILE, CheckpointStore
from migrations.seed.transform import transform
from reconciler.run import record_report, run_reconcile
from replicator.handler import Replicator, ReplicatorConfig
from replicator.poller.lambda_events import to_lambda_event
from replicator.poller.shard_reader import EMPTY_PAGES
from replicator.poller.sync import SyncOptions, run_sync
from replicator.positions import PositionStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from streams_double import StreamsDouble  # tests/ is on sys.path (not a package)

EXAMPLES = int(os.environ.get("CUTOVER_EVIDENCE_EXAMPLES", "10"))
STEPS = int(os.environ.get("CUTOVER_EVIDENCE_STEPS", "25"))
USERS = st.sampled_from([f"u{i}" for i in range(4)])
EMAILS = st.sampled_from(["a@x.io", "b@x.io", "c@x.io"])
FAST = SyncOptions(poll_interval=0.0)


class _Clients:
    """Real (moto) DynamoDB and SSM, the double for DynamoDB Streams."""

    def __init__(self, real: Clients, streams: StreamsDouble) -> None:
        self.dynamodb, self.ssm, self.streams, self.region = real.dynamodb, real.ssm, streams, "us-east-1"


@lru_cache(maxsize=1)
def _real() -> Clients:
    return Clients(Settings(service="evid", region="us-east-1"))


class EvidenceMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        self.settings = Settings(service="evid", region="us-east-1")
        self.real = _real()
        names = self.settings.names
        for spec in names.all_specs():
            self.real.dynamodb.create_table(**spec.create_table_kwargs())
        self.real.ssm.put_parameter(Name=names.read_source_parameter, Value="legacy", Type="String", Overwrite=True)
        for role in names.roles:  # the gate reads the on-failure queues (empty here: no batch is discarded)
            self.real.sqs.create_queue(QueueName=names.failure_queue(role))
        self.double = StreamsDouble()
        for table in (names.source_table("users"), names.source_table("orders")):
            self.double.enable(table)
        self.clients = _Clients(self.real, self.double)
        self.model: dict[str, dict[str, Any]] = {}
        self.synced = True  # every legacy write has been through a sync pass
        self.pending: list[Any] = []  # reconciles that ran but have not recorded yet
        self.seen_positions: dict[str, tuple[int, bool]] = {}
        self.seen_reconcile = ""
        self.seen_version = 0
        # The write time of the newest record trimmed so far. The double trims at once; AWS trims a
        # record only 24 h after it was written, so a reconcile that finished before that time is
        # older than the gate's 24 h age limit by the time anything is trimmed.
        self.aged_out = ""

    def teardown(self) -> None:
        self.mock.stop()

    @initialize(users=st.dictionaries(USERS, EMAILS, max_size=4), proven=st.booleans())
    def start(self, users: dict[str, str], proven: bool) -> None:
        """Legacy already holds a few users (so replays, trims and re-writes have records to act on),
        and half the runs start where the operator has just proved the gate: the region where the key
        invariant compares v3 with legacy, which a run otherwise reaches by chance after a dozen steps."""
        for user, email in users.items():
            self.write(user, email)
        if proven:
            self.catch_up_and_prove(repair=False)

    # --- legacy writes and the stream ---------------------------------------------------------------
    @rule(user=USERS, email=EMAILS)
    def write(self, user: str, email: str) -> None:
        new, old = {"userId": user, "email": email}, self.model.get(user)
        self.real.dynamodb.put_item(TableName=self.settings.names.source_table("users"), Item=to_ddb(new))
        self.double.put(self.settings.names.source_table("users"), {"userId": user}, new, old)
        self.model[user], self.synced = new, False

    @rule(user=USERS)
    def delete(self, user: str) -> None:
        if user not in self.model:
            return
        self.real.dynamodb.delete_item(
            TableName=self.settings.names.source_table("users"), Key=to_ddb({"userId": user})
        )
        self.double.put(self.settings.names.source_table("users"), {"userId": user}, None, self.model.pop(user))
        self.synced = False

    @rule(pages=st.integers(0, EMPTY_PAGES - 1))
    def empty_pages(self, pages: int) -> None:
        """Empty pages before records, below sync's documented bound (DESIGN.md: caught-up rule)."""
        self.double.empty_pages = pages

    @rule()
    def split(self) -> None:
        self.double.split(self.settings.names.source_table("users"))

    @rule()
    def disable_and_reenable(self) -> None:
        self.double.disable(self.settings.names.source_table("users"))
        self.double.enable(self.settings.names.source_table("users"))

    @rule()
    def trim_unread(self) -> None:
        """24 h pass on an unread range: the open shard loses everything sync has not read."""
        stream = self.double.latest(self.settings.names.source_table("users"))
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
        stream = self.double.latest(self.settings.names.source_table("users"))
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
        positions.save_shard(self.settings.names.source_table("users"), shard.shard_id, stream_arn=stream.arn,
                             sequence=records[-1]["dynamodb"]["SequenceNumber"], closed=False, done=False)  # fmt: skip

    # --- backfill, reconcile, flips -------------------------------------------------------------------
    @rule()
    def backfill(self) -> None:
        run_backfill(self.settings, self.real, segments=1, workers=1, require_sync=False)

    @rule(repair=st.booleans(), record_now=st.booleans())
    def reconcile(self, repair: bool, record_now: bool) -> None:
        report = run_reconcile(self.settings, self.real, segments=1, workers=1, repair=repair, record=False)
        if record_now:
            record_report(Stores.build(self.settings, self.real).reports, report)
        else:
            self.pending.append(report)

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
        record_report(Stores.build(self.settings, self.real).reports, self.pending.pop(0))

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
        if not self.synced or not evaluate("v3", stores.evidence(current_flag="shadow")).allowed:
            return
        if (stores.reports.latest(RECONCILE) or {}).get("finished_at", "") <= self.aged_out:
            event("the gate allowed v3 on a reconcile that 24 h of trimming would have aged out: not compared")
            return
        event("the gate allowed v3: v3 compared with transform(legacy)")
        names = self.settings.names
        live = {}
        for raw in self.real.dynamodb.scan(TableName=names.v3_table, ConsistentRead=True).get("Items", []):
            item = from_ddb(raw)
            if not item.get("_deleted"):
                live[(item["userId"], item["recordType"])] = {k: v for k, v in item.items() if not k.startswith("_")}
        expected = {}
        for item in self.model.values():
            out = transform("users", item)[0]
            expected[(out["userId"], out["recordType"])] = out
        assert live == expected, "the gate allowed v3 while v3 differs from transform(legacy)"

    @invariant()
    def evidence_never_moves_backwards(self) -> None:
        names = self.settings.names
        positions = PositionStore(CheckpointStore(self.real.dynamodb, names.checkpoints_table))
        for shard, doc in positions.shard_positions(names.source_table("users")).items():
            now = (int(doc.get("sequence") or 0), bool(doc.get("done")))
            before = self.seen_positions.get(shard, (0, False))
            assert now[0] >= before[0] and (now[1] or not before[1]), f"position of {shard} moved back"
            self.seen_positions[shard] = now
        reports = Stores.build(self.settings, self.real).reports
        started = (reports.latest(RECONCILE) or {}).get("started_at") or ""
        assert started >= self.seen_reconcile, "the latest reconcile moved back in start order"
        self.seen_reconcile = started
        version, _ = reports.control(FLIP)
        assert version >= self.seen_version
        self.seen_version = version


EvidenceMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
TestEvidence = EvidenceMachine.TestCase
