"""`cutover backfill --remote` and `cutover reconcile --remote [--repair]` through the deployed
state machines, on the rehearsal (tests/integration/rehearsal.py): the dev stage synthesized for
this test's service and migration, its machines run on moto's ASL interpreter, every Lambda task
dispatched to its real handler in its own worker process with its synthesized environment and
IAM policy. No state machine is played by hand and no Lambda gets the test's environment.

Where a test needs the run to advance in steps (progress, Ctrl-C), a `Stepper` holds each Lambda
invocation until the CLI's next poll (`cutover_cli.remote.pause`), so what the CLI sees between
polls does not depend on the machine's speed.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner

from cutover.clients import Clients
from cutover.clock import utc_now
from cutover.codec import to_ddb
from cutover.settings import Settings
from cutover.state import BACKFILL_RUN, RECONCILE, CheckpointStore, ReportStore
from cutover_cli.app import main
from cutover_cli.local_backend import init_backend
from cutover_cli.rehearsal.policy import Statement
from replicator.positions import PositionStore
from tests.integration.rehearsal import Rehearsal, rehearse
from tests.integration.test_any_migration import _draw

pytestmark = pytest.mark.server
MIGRATIONS = {"seed": None, "catalog": "migrations.catalog:MIGRATION"}


class Recorder:
    """A ProgressSink that remembers every bar's position after each advance."""

    def __init__(self) -> None:
        self.totals: dict[str, int | None] = {}
        self.seen: dict[str, list[int]] = {}

    def add_table(self, label, total):
        self.totals[label], self.seen[label] = total, [0]

    def advance(self, label, n):
        self.seen[label].append(self.seen[label][-1] + n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


class Stepper:
    """One Lambda invocation per CLI poll (`step` replaces `cutover_cli.remote.pause`): a poll lets
    one held invocation through and waits for it to end, so what the CLI sees between polls does
    not depend on the machine's speed; no turn is ever banked. `free()` lets the rest run unheld.
    `interrupt_at`: the poll at which the operator presses Ctrl-C."""

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.changed = threading.Condition()
        self.waiting = self.turns = self.done = self.polls = 0
        self.interrupt_at, self.unheld = interrupt_at, False

    def before(self, _name: str) -> None:
        with self.changed:
            self.waiting += 1
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.unheld or self.turns > 0)
            if not self.unheld:
                self.turns -= 1
            self.waiting -= 1

    def after(self, _name: str) -> None:
        with self.changed:
            self.done += 1
            self.changed.notify_all()

    def step(self, _seconds: float) -> None:
        self.polls += 1
        if self.polls == self.interrupt_at:
            raise KeyboardInterrupt
        with self.changed:
            if not self.changed.wait_for(lambda: self.waiting > 0, timeout=0.3):
                return  # nothing held: the machine is between invocations, or closing
            finished = self.done
            self.turns += 1
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.done > finished, timeout=120)

    def free(self) -> None:
        with self.changed:
            self.unheld = True
            self.changed.notify_all()


def _fast(_seconds: float) -> None:
    time.sleep(0.05)


@pytest.fixture
def stack(settings, clients, tmp_path, lambda_build_dir, monkeypatch) -> Iterator[Rehearsal]:
    """The seed's dev stage deployed into the moto server; the CLI polls every 50 ms."""
    monkeypatch.setattr("cutover_cli.remote.pause", _fast)
    with rehearse(settings, clients, tmp_path, lambda_build_dir) as rehearsal:
        yield rehearsal


@pytest.fixture
def stepped(stack, monkeypatch) -> Iterator[tuple[Rehearsal, Stepper]]:
    """`stack` with its Lambda invocations held to one per poll (`stepper.interrupt_at` settable)."""
    stepper = Stepper()
    stack.functions.before, stack.functions.after = stepper.before, stepper.after
    monkeypatch.setattr("cutover_cli.remote.pause", stepper.step)
    yield stack, stepper
    stepper.free()


def _running(clients, machine_arn):
    return clients.client("stepfunctions").list_executions(stateMachineArn=machine_arn)["executions"]


def _caught_up(settings, clients) -> None:
    store = PositionStore(CheckpointStore(clients.dynamodb, settings.names.checkpoints_table))
    for role in settings.names.roles:
        store.save_meta(role, {"table": settings.names.source_table(role), "caught_up_at": utc_now()})


def _seed(settings, clients, users: int) -> None:
    for i in range(users):
        clients.dynamodb.put_item(
            TableName=settings.names.source_table("users"), Item=to_ddb({"userId": f"u{i}", "email": f"u{i}@x"})
        )
    _caught_up(settings, clients)  # caught up just now


def _cli(settings, *args):
    migration = ("--migration", settings.migration) if settings.migration else ()
    argv = [*args, "--endpoint-url", settings.endpoint_url, "--service", settings.service, *migration]
    return CliRunner().invoke(main, argv)


def test_backfill_remote_follows_the_checkpoints_and_exits_0_when_the_execution_succeeds(
    settings, clients, stepped, monkeypatch
):
    rehearsal, stepper = stepped
    _seed(settings, clients, 30)
    bars = Recorder()
    monkeypatch.setattr("cutover_cli.remote_backfill.make_progress", lambda enabled: bars)
    # When the remote backfill runs with a whole-run rate of 30 items/s over 3 segments
    result = _cli(settings, "backfill", "--remote", "--table", "users", "--segments", "3", "--rate", "30", "--json")
    # Then it exits 0 and prints the execution ARN and its final status
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    (execution,) = out["executions"]
    assert out["status"] == execution["status"] == "SUCCEEDED"
    machine = rehearsal.machine("backfill")
    assert execution["execution_arn"].startswith(machine.replace(":stateMachine:", ":execution:"))
    assert execution["scanned"] == 30 and execution["segments_done"] == 3
    # And each segment's Lambda got the map item the machine built, with the per-segment rate
    events = sorted((e for _, e in rehearsal.functions.invocations), key=lambda e: e["segment"])
    assert events == [
        {"table": "users", "segments": 3, "run_id": out["run_id"], "rate": 10.0, "segment": s} for s in range(3)
    ]
    # And the bar followed the checkpoints in steps, up to every item
    assert bars.seen["users"][-1] == 30 and len(set(bars.seen["users"])) >= 3
    assert bars.seen["users"] == sorted(bars.seen["users"])
    assert clients.dynamodb.scan(TableName=settings.names.v3_table)["Count"] == 30
    # And the run is recorded as a local run's, complete, for `cutover status` and the flip gate
    recorded = ReportStore(clients.dynamodb, settings.names.reports_table).latest(BACKFILL_RUN)
    assert recorded["run_id"] == out["run_id"] and recorded["complete"] is True
    assert recorded["tables"]["users"]["written"] == 30 and recorded["tables"]["users"]["segments_done"] == 3


DETACHABLE = ("backfill", "--remote", "--table", "users", "--segments", "2", "--run-id", "nightly-1", "--quiet")


def test_ctrl_c_detaches_and_the_same_run_id_re_attaches(settings, clients, stepped):
    rehearsal, stepper = stepped
    _seed(settings, clients, 12)
    stepper.interrupt_at = 2
    # When the operator presses Ctrl-C while following
    first = _cli(settings, *DETACHABLE)
    # Then it exits 130 with one line: the execution keeps running, and how to re-attach
    assert first.exit_code == 130
    (line,) = [x for x in first.stderr.splitlines() if "detached" in x]
    assert "keeps running" in line and "cutover backfill --remote --run-id nightly-1" in line
    assert [e["status"] for e in _running(clients, rehearsal.machine("backfill"))] == ["RUNNING"]
    # When the same command runs again, Then it re-attaches (no second execution) and finishes
    stepper.free()
    again = _cli(settings, *DETACHABLE)
    assert again.exit_code == 0, again.output
    assert "attached" in again.stderr and len(_running(clients, rehearsal.machine("backfill"))) == 1


def test_a_failed_segment_fails_the_run_exit_1_naming_it_and_the_same_run_id_resumes(settings, clients, stack):
    # Given four legacy items the segment must re-read before quarantining them, and the segment
    # function deployed without GetItem on the legacy tables (issue 20's first major: each attempt
    # gets one bad item further, as its quarantine put is a no-op on the next)
    _seed(settings, clients, 8)
    for n in range(4):
        clients.dynamodb.put_item(
            TableName=settings.names.source_table("users"), Item=to_ddb({"userId": f"bad{n}", "email": n})
        )
    (segment,) = [s for s in stack.deployment.functions.values() if s.handler.startswith("backfill.")]
    legacy = f"arn:aws:dynamodb:us-east-1:123456789012:table/{settings.names.source_table('users')}"
    denied = Statement("Deny", ("dynamodb:GetItem",), (legacy,))
    stack.functions.replace(
        replace(segment, policy=replace(segment.policy, statements=(*segment.policy.statements, denied)))
    )
    args = ("backfill", "--remote", "--table", "users", "--segments", "1", "--run-id", "r1", "--quiet")
    result = _cli(settings, *args)
    # Then the denied call fails the segment, its retries, the map and the run: exit 1, one line
    # naming the execution, the map state it failed in and the error
    assert result.exit_code == 1, result.output
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert "FAILED" in line and ":execution:" in line and "r1-users" in line, line
    assert "'Segments'" in line and "States.ExceedToleratedFailureThreshold" in line, line
    # And the segment was retried as its Retrier says (3 more attempts after 10, 20 and 40 s)
    assert len(stack.functions.invocations) == 4 and stack.interpreter.waits == [10.0, 20.0, 40.0]
    assert ReportStore(clients.dynamodb, settings.names.reports_table).latest(BACKFILL_RUN) is None
    # When the grant is deployed and the same run id runs again, Then a resume execution starts
    # (r1-users-r2) and succeeds, the bad item quarantined
    stack.functions.replace(segment)
    again = _cli(settings, *args, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["executions"][0]["execution_arn"].endswith(":r1-users-r2")
    assert sorted(e["name"] for e in _running(clients, stack.machine("backfill"))) == ["r1-users", "r1-users-r2"]
    assert clients.dynamodb.scan(TableName=settings.names.quarantine_table)["Count"] == 4


def test_without_a_published_state_machine_remote_refuses_in_one_line(settings, clients):
    _seed(settings, clients, 1)
    result = _cli(settings, "backfill", "--remote", "--table", "users")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and settings.names.deployment_parameter in result.stderr


def test_local_and_remote_runs_share_one_lease(settings, clients, stepped):
    rehearsal, stepper = stepped
    _seed(settings, clients, 12)
    stepper.interrupt_at = 2
    # Given a remote run the operator detached from (its executions keep running)
    assert _cli(settings, *DETACHABLE).exit_code == 130
    # When a local run starts, Then it is refused (exit 2) in one line naming the remote run
    local = _cli(settings, "backfill", "--table", "users", "--quiet")
    assert local.exit_code == 2
    assert local.stderr.count("\n") == 1 and "nightly-1" in local.stderr and "--steal-lease" in local.stderr
    # And so is another remote run, before it starts any execution
    other = _cli(settings, "backfill", "--remote", "--table", "users", "--run-id", "other", "--quiet")
    assert other.exit_code == 2 and "nightly-1" in other.stderr
    assert [e["name"] for e in _running(clients, rehearsal.machine("backfill"))] == ["nightly-1-users"]
    # When a re-attach to it with other options is refused, Then the running run keeps its lease
    assert _cli(settings, *DETACHABLE, "--rate", "5").exit_code == 2
    assert "nightly-1" in _cli(settings, "backfill", "--table", "users", "--quiet").stderr
    # When the remote run is re-attached to and finishes, Then it releases the lease: a local run starts
    stepper.free()
    assert _cli(settings, *DETACHABLE).exit_code == 0
    again = _cli(settings, "backfill", "--table", "users", "--quiet")
    assert again.exit_code == 0, again.output


# --- both shipped migrations: backfill, then reconcile, repair and reconcile again ------------------


@pytest.fixture(params=sorted(MIGRATIONS))
def migration_world(
    request, moto_server, tmp_path, lambda_build_dir, monkeypatch
) -> Iterator[tuple[Settings, Clients, Rehearsal]]:
    """A fresh service of one shipped migration, its legacy tables holding items drawn from the
    definition, its secrets in SSM as an operator creates them, its dev stage deployed."""
    settings = Settings(
        service=f"r{uuid.uuid4().hex[:10]}",
        endpoint_url=moto_server.endpoint_url,
        region="us-east-1",
        migration=MIGRATIONS[request.param],
    )
    clients = Clients(settings)
    init_backend(settings, clients)
    for secret in settings.names.migration.secrets:  # up to the version the definition pins
        for version in range(1, secret.version + 1):
            clients.ssm.put_parameter(
                Name=secret.parameter_name(settings.service, settings.stage),
                Type="SecureString",
                Value=f"rehearsal-{secret.name}-{version}",
                Overwrite=version > 1,
            )
    for role in settings.names.roles:
        for item in _draw(settings.names.migration, role, 12, salt=0):
            clients.dynamodb.put_item(TableName=settings.names.source_table(role), Item=to_ddb(item))
    _caught_up(settings, clients)
    monkeypatch.setattr("cutover_cli.remote.pause", _fast)
    with rehearse(settings, clients, tmp_path, lambda_build_dir) as rehearsal:
        yield settings, clients, rehearsal


def _one_target_item(settings, clients) -> dict[str, Any]:
    return clients.dynamodb.scan(TableName=settings.names.v3_table, Limit=1)["Items"][0]


def test_backfill_then_reconcile_with_repair_through_the_deployed_machines(migration_world, tmp_path):
    settings, clients, rehearsal = migration_world
    # When every source is backfilled through the backfill machine
    backfill = _cli(settings, "backfill", "--remote", "--segments", "1", "--json")
    assert backfill.exit_code == 0, backfill.output
    assert {e["status"] for e in json.loads(backfill.stdout)["executions"]} == {"SUCCEEDED"}
    assert ReportStore(clients.dynamodb, settings.names.reports_table).latest(BACKFILL_RUN)["complete"] is True
    # And one target item is lost afterwards
    target_keys = [k.name for k in settings.names.migration.target.keys]
    lost = _one_target_item(settings, clients)
    clients.dynamodb.delete_item(TableName=settings.names.v3_table, Key={k: lost[k] for k in target_keys})
    # Then the remote reconcile finds exactly it: exit 1, the report as a local run's
    report = tmp_path / "remote-report.json"
    found = _cli(settings, "reconcile", "--remote", "--segments", "1", "--json", "--report", str(report))
    assert found.exit_code == 1, found.output
    out = json.loads(found.stdout)
    assert out["status"] == "SUCCEEDED" and out["execution_arn"].endswith(f":{out['run_id']}")
    assert out["counts"]["missing"] == 1 and out["clean"] is False, out["counts"]
    assert len(json.loads(report.read_text())["differences"]) == 1
    latest = ReportStore(clients.dynamodb, settings.names.reports_table).latest(RECONCILE)
    assert latest["run_id"] == out["run_id"] and latest["started_at"] == out["started_at"]
    # When it runs with --repair, Then the item is back, and a reconcile after it is clean (exit 0)
    repaired = _cli(settings, "reconcile", "--remote", "--segments", "1", "--repair", "--json", "--report", str(report))
    assert repaired.exit_code in (0, 1), repaired.output
    assert json.loads(repaired.stdout)["status"] == "SUCCEEDED"
    back = clients.dynamodb.get_item(TableName=settings.names.v3_table, Key={k: lost[k] for k in target_keys})
    assert {k: v for k, v in back["Item"].items() if k != "_version"} == {
        k: v for k, v in lost.items() if k != "_version"
    }
    clean = _cli(settings, "reconcile", "--remote", "--segments", "1", "--json", "--report", str(report))
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout)["clean"] is True
    # And every function ran in its own worker from its asset, under its own policy
    ran = {name for name, _ in rehearsal.functions.invocations}
    assert {s.name for s in rehearsal.deployment.functions.values() if "Replicator" not in s.name} <= ran


def _wait(clients, arn: str, timeout: float = 300.0) -> dict[str, Any]:
    sfn, deadline = clients.client("stepfunctions"), time.monotonic() + timeout
    while (out := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{arn} still RUNNING after {timeout} s"
        time.sleep(0.05)
    return out


def test_the_runbooks_start_execution_inputs_as_printed_run_to_success(settings, clients, stack):
    """runbooks/deploy.md's own `aws stepfunctions start-execution` inputs, exactly as printed
    (issue 20, major 5), through the deployed machines and every Lambda they invoke."""
    from tests.infrastructure.test_machine_inputs import runbook_inputs

    _seed(settings, clients, 20)
    sfn = clients.client("stepfunctions")
    # When each backfill input starts an execution, as the runbook's commands do
    runs = [
        sfn.start_execution(stateMachineArn=stack.machine("backfill"), name=f"runbook-{n}", input=text)["executionArn"]
        for n, text in enumerate(runbook_inputs("backfill"))
    ]
    # Then each succeeds and every legacy user is in the target
    assert [_wait(clients, arn)["status"] for arn in runs] == ["SUCCEEDED"] * len(runs)
    assert clients.dynamodb.scan(TableName=settings.names.v3_table)["Count"] == 20
    segments = {json.loads(text)["segments"] for text in runbook_inputs("backfill")}
    backfill_events = [e for name, e in stack.functions.invocations if "Backfill" in name]
    assert {e["segment"] for e in backfill_events} == set(range(max(segments)))
    # And the reconcile input (no sample, no repair: the defaults) runs Begin, its parts and Merge
    (text,) = runbook_inputs("reconcile")
    arn = sfn.start_execution(stateMachineArn=stack.machine("reconcile"), name="runbook-check", input=text)[
        "executionArn"
    ]
    assert _wait(clients, arn)["status"] == "SUCCEEDED"
    report = ReportStore(clients.dynamodb, settings.names.reports_table).latest(RECONCILE)
    assert report["run_id"] == json.loads(text)["run_id"] and report["counts"]["missing"] == 0, report
