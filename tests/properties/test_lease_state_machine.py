"""The backfill lease, stateful: local runs and remote runs (a CLI and its Lambdas share one holder)
take, renew, release, steal and die in any order while the backend's clock moves (issue 19.8).

Why its own machine and not a rule of tests/properties/test_pipeline_state_machine.py: that one
interleaves segments (`run_segment`), below the run the lease guards; here the unit is the run.
A model predicts every outcome: a take succeeds iff no OTHER holder's lease is live (taken or
renewed less than a TTL ago on the backend's clock, not released); a renewal iff the holder still
has it. And whoever `current_lease` names is the one holder the model says is live.
"""

from __future__ import annotations

import os
import time

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from moto import mock_aws

from backfill.errors import LeaseHeldError
from backfill.lease import BackfillLease, Holder, current_lease
from cutover.clients import Clients
from cutover.settings import Settings
from cutover.state import CheckpointStore

TTL = 60.0
# local runs are processes; "r1" is a remote run: its CLI and its segment Lambdas are one holder
HOLDERS = {
    "local-1": Holder("local:1", "run-l1", "host pid 1", "cutover backfill"),
    "local-2": Holder("local:2", "run-l2", "host pid 2", "cutover backfill"),
    "r1-cli": Holder("r1", "r1", "AWS, followed from host", "cutover backfill --remote"),
    "r1-lambda": Holder("r1", "r1", "AWS, segment Lambda", ""),
}
WHO = st.sampled_from(sorted(HOLDERS))


class LeaseMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        s = Settings(service="lease", region="us-east-1")
        clients = Clients(s)
        spec = next(x for x in s.names.own_specs() if x.name == s.names.checkpoints_table)
        clients.dynamodb.create_table(**spec.create_table_kwargs())
        self.store = CheckpointStore(clients.dynamodb, s.names.checkpoints_table)
        self.now = float(int(time.time()))  # whole seconds: every step below adds exactly
        self.leases = {
            who: BackfillLease(self.store, holder, TTL, clock=lambda: self.now) for who, holder in HOLDERS.items()
        }
        self.holder: str | None = None  # the model: which token holds the lease, until when
        self.expires = 0.0

    def teardown(self) -> None:
        self.mock.stop()

    def _live(self) -> str | None:
        return self.holder if self.holder is not None and self.expires >= self.now else None

    @rule(who=WHO)
    def take(self, who):
        token = HOLDERS[who].token
        expected = self._live() in (None, token)
        try:
            self.leases[who].acquire()
            took = True
        except LeaseHeldError as refused:
            took = False
            assert refused.held["token"] == self._live()  # the refusal names the live holder
        assert took == expected, (who, self.holder, self.expires, self.now)
        if took:
            self.holder, self.expires = token, self.now + TTL

    @rule(who=WHO)
    def renew(self, who):
        token = HOLDERS[who].token
        # a holder renews while it still has the item, even a moment past expiry nobody took
        expected = self.holder == token
        assert self.leases[who].renew() == expected
        if expected:
            self.expires = self.now + TTL

    @rule(who=WHO)
    def release(self, who):
        self.leases[who].release()
        if self.holder == HOLDERS[who].token:
            self.holder = None

    @rule(who=WHO)
    def steal(self, who):
        self.leases[who].acquire(steal=True)
        self.holder, self.expires = HOLDERS[who].token, self.now + TTL

    @rule(seconds=st.sampled_from([1.0, TTL / 3, TTL - 1, TTL + 1, 5 * TTL]))
    def clock_moves(self, seconds):
        self.now += seconds

    @invariant()
    def the_named_holder_is_the_live_one(self):
        held = current_lease(self.store, clock=lambda: self.now)
        assert (held or {}).get("token") == self._live()


# about ten seconds on a shared 2-core box (each step is a few moto requests); soak with CUTOVER_SOAK_EXAMPLES
LeaseMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("CUTOVER_SOAK_EXAMPLES", "25")),
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
test_lease = LeaseMachine.TestCase
