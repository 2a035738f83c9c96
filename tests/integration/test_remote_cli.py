"""`cutover backfill --remote` and `cutover reconcile --remote` against moto's Step Functions API.

moto stores executions (StartExecution, DescribeExecution, StopExecution, name idempotency) but
never runs them: an execution stays RUNNING. So each test plays the state machine itself: every
time the CLI would wait between polls (`cutover_cli.remote.pause`), it runs one invocation of a
segment handler with the map item the definition would build from the execution's input, and
once every segment is done it closes the execution in moto's backend as Step Functions would
(SUCCEEDED, or FAILED with an error). The CLI only sees the API and the checkpoints.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner

from cutover.clock import utc_now
from cutover.codec import to_ddb
from cutover.state import BACKFILL_RUN, RECONCILE, CheckpointStore, ReportStore
from cutover_cli.app import main
from replicator.positions import PositionStore
from tests.unit.test_backfill_lambda import FakeContext, _env

pytestmark = pytest.mark.server
ROLE = "arn:aws:iam::123456789012:role/cutover-sfn"
DEFINITION = json.dumps({"StartAt": "Run", "States": {"Run": {"Type": "Pass", "End": True}}})


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


@pytest.fixture
def deployed(settings, clients, monkeypatch):
    """Both state machines in moto, their ARNs published where the CLI reads them, Lambda env set."""
    sfn = clients.client("stepfunctions")
    arns = {
        kind: sfn.create_state_machine(
            name=f"{settings.names.prefix}-cutover-{kind}", definition=DEFINITION, roleArn=ROLE
        )["stateMachineArn"]
        for kind in ("backfill", "reconcile")
    }
    clients.ssm.put_parameter(
        Name=settings.names.deployment_parameter,
        Type="String",
        Value=json.dumps(
            {
                "sourceTables": settings.names.source_tables(),
                "backfillStateMachineArn": arns["backfill"],
                "reconcileStateMachineArn": arns["reconcile"],
            }
        ),
    )
    for key, value in {**_env(settings.names), "CUTOVER_ENDPOINT_URL": settings.endpoint_url}.items():
        monkeypatch.setenv(key, value)
    import backfill.segment_lambda as backfill_lambda
    import reconciler.merge as merge
    import reconciler.segment_lambda as reconcile_lambda

    for module in (backfill_lambda, merge, reconcile_lambda):
        module.cold_start.reset()
        module.cold_start.get()  # warm, outside the CLI runner: their log lines are not the CLI's output
    yield sfn, arns, (backfill_lambda, reconcile_lambda, merge)
    for module in (backfill_lambda, merge, reconcile_lambda):
        module.cold_start.reset()


def _close(arn: str, status: str, error: str | None = None, cause: str | None = None) -> None:
    """Close an execution in moto's in-process backend, as Step Functions does when the run ends."""
    from moto.stepfunctions.models import stepfunctions_backends

    for backend in stepfunctions_backends["123456789012"].values():
        for machine in backend.state_machines:
            for execution in machine.executions:
                if execution.execution_arn == arn:
                    execution.status, execution.stop_date = status, datetime.now(UTC)
                    execution.output, execution.output_details = "{}", {"included": True}
                    execution.error, execution.cause = error, cause
                    return
    raise AssertionError(f"no execution {arn}")


def _running(sfn, machine_arn):
    return sfn.list_executions(stateMachineArn=machine_arn)["executions"]


def _seed(settings, clients, users: int) -> None:
    for i in range(users):
        clients.dynamodb.put_item(
            TableName=settings.names.source_table("users"), Item=to_ddb({"userId": f"u{i}", "email": f"u{i}@x"})
        )
    store = PositionStore(CheckpointStore(clients.dynamodb, settings.names.checkpoints_table))
    store.save_meta(
        "users", {"table": settings.names.source_table("users"), "caught_up_at": utc_now()}
    )  # caught up just now


def _cli(settings, *args):
    return CliRunner().invoke(main, [*args, "--endpoint-url", settings.endpoint_url, "--service", settings.service])


def play_backfill(sfn, handler, *, finish="SUCCEEDED", interrupt_at=None):
    """The backfill state machine, one segment invocation per CLI poll; then close the execution."""
    state = {"polls": 0}

    def step(_seconds):
        state["polls"] += 1
        if state["polls"] == interrupt_at:
            raise KeyboardInterrupt
        (execution,) = [e for e in _running(sfn, state["machine"]) if e["status"] == "RUNNING"]
        run = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        state["input"] = run
        for segment in range(run["segments"]):  # the Map's items, as `Plan segments` builds them
            item = {k: run[k] for k in ("table", "segments", "run_id", "rate")} | {"segment": segment}
            if not handler.lambda_handler(item, FakeContext(900_000))["done"]:
                return
            if segment == state["polls"] - 1 and segment < run["segments"] - 1:
                return  # one more segment per poll, so the CLI sees progress in steps
        if finish == "FAILED":
            _close(execution["executionArn"], finish, "States.TaskFailed", "segment 1: boom")
        else:
            _close(execution["executionArn"], finish)

    return state, step


def test_backfill_remote_follows_the_checkpoints_and_exits_0_when_the_execution_succeeds(
    settings, clients, deployed, monkeypatch
):
    sfn, arns, (handler, *_) = deployed
    _seed(settings, clients, 30)
    state, step = play_backfill(sfn, handler)
    state["machine"] = arns["backfill"]
    monkeypatch.setattr("cutover_cli.remote.pause", step)
    bars = Recorder()
    monkeypatch.setattr("cutover_cli.remote_backfill.make_progress", lambda enabled: bars)
    # When the remote backfill runs with a whole-run rate of 30 items/s over 3 segments
    result = _cli(settings, "backfill", "--remote", "--table", "users", "--segments", "3", "--rate", "30", "--json")
    # Then it exits 0 and prints the execution ARN and its final status
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    (execution,) = out["executions"]
    assert out["status"] == execution["status"] == "SUCCEEDED"
    assert execution["execution_arn"].startswith(arns["backfill"].replace(":stateMachine:", ":execution:"))
    assert execution["scanned"] == 30 and execution["segments_done"] == 3
    # And the execution got the per-segment rate (segments x rate = the whole run's 30 items/s)
    assert state["input"] == {"table": "users", "segments": 3, "run_id": out["run_id"], "rate": 10.0}
    # And the bar followed the checkpoints in steps, up to every item
    assert bars.seen["users"][-1] == 30 and len(set(bars.seen["users"])) >= 3
    assert bars.seen["users"] == sorted(bars.seen["users"])
    assert clients.dynamodb.scan(TableName=settings.names.v3_table)["Count"] == 30
    # And the run is recorded as a local run's, complete, for `cutover status` and the flip gate
    recorded = ReportStore(clients.dynamodb, settings.names.reports_table).latest(BACKFILL_RUN)
    assert recorded["run_id"] == out["run_id"] and recorded["complete"] is True
    assert recorded["tables"]["users"]["written"] == 30 and recorded["tables"]["users"]["segments_done"] == 3


DETACHABLE = ("backfill", "--remote", "--table", "users", "--segments", "2", "--run-id", "nightly-1", "--quiet")


def _interrupted_after_two_polls(settings, clients, deployed, monkeypatch) -> tuple[Any, dict, dict]:
    """12 users and a backfill machine played so that following it is Ctrl-C'd at the 2nd poll."""
    sfn, arns, (handler, *_) = deployed
    _seed(settings, clients, 12)
    state, step = play_backfill(sfn, handler, interrupt_at=2)
    state["machine"] = arns["backfill"]
    monkeypatch.setattr("cutover_cli.remote.pause", step)
    return sfn, arns, state


def test_ctrl_c_detaches_and_the_same_run_id_re_attaches(settings, clients, deployed, monkeypatch):
    sfn, arns, state = _interrupted_after_two_polls(settings, clients, deployed, monkeypatch)
    # When the operator presses Ctrl-C while following
    args = DETACHABLE
    first = _cli(settings, *args)
    # Then it exits 130 with one line: the execution keeps running, and how to re-attach
    assert first.exit_code == 130
    (line,) = [x for x in first.stderr.splitlines() if "detached" in x]
    assert "keeps running" in line and "cutover backfill --remote --run-id nightly-1" in line
    assert [e["status"] for e in _running(sfn, arns["backfill"])] == ["RUNNING"]
    # When the same command runs again, Then it re-attaches (no second execution) and finishes
    state["polls"] = 10
    again = _cli(settings, *args)
    assert again.exit_code == 0, again.output
    assert "attached" in again.stderr and len(_running(sfn, arns["backfill"])) == 1


def test_a_failed_execution_exits_1_naming_it_and_the_same_run_id_resumes(settings, clients, deployed, monkeypatch):
    sfn, arns, (handler, *_) = deployed
    _seed(settings, clients, 8)
    state, step = play_backfill(sfn, handler, finish="FAILED")
    state["machine"] = arns["backfill"]
    state["polls"] = 10  # every segment at the first poll
    monkeypatch.setattr("cutover_cli.remote.pause", step)
    args = ("backfill", "--remote", "--table", "users", "--segments", "1", "--run-id", "r1", "--quiet")
    result = _cli(settings, *args)
    # Then exit 1 with one line naming the execution and the failing state's error
    assert result.exit_code == 1
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert "FAILED" in line and "States.TaskFailed" in line and ":execution:" in line and "r1-users" in line
    assert ReportStore(clients.dynamodb, settings.names.reports_table).latest(BACKFILL_RUN) is None
    # When run again with the same run id, Then a resume execution starts (r1-users-r2) and succeeds
    resumed, step = play_backfill(sfn, handler)
    resumed["machine"], resumed["polls"] = arns["backfill"], 10
    monkeypatch.setattr("cutover_cli.remote.pause", step)
    again = _cli(settings, *args, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["executions"][0]["execution_arn"].endswith(":r1-users-r2")
    assert sorted(e["name"] for e in _running(sfn, arns["backfill"])) == ["r1-users", "r1-users-r2"]


def test_without_a_published_state_machine_remote_refuses_in_one_line(settings, clients):
    _seed(settings, clients, 1)
    result = _cli(settings, "backfill", "--remote", "--table", "users")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and settings.names.deployment_parameter in result.stderr


def test_reconcile_remote_runs_to_the_report_the_gate_reads(settings, clients, deployed, monkeypatch, tmp_path):
    sfn, arns, (backfill_lambda, segment, merge) = deployed
    _seed(settings, clients, 10)
    for seg in range(2):
        backfill_lambda.lambda_handler({"table": "users", "segment": seg, "segments": 2}, FakeContext(900_000))
    clients.dynamodb.delete_item(
        TableName=settings.names.v3_table, Key=to_ddb({"userId": "u4", "recordType": "PROFILE"})
    )

    def step(_seconds):
        (execution,) = _running(sfn, arns["reconcile"])
        run = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        begin = merge.lambda_handler({"step": "begin", **run}, FakeContext(900_000))
        for item in begin["items"]:
            while not segment.lambda_handler({**run, **item}, FakeContext(900_000))["done"]:
                pass
        merge.lambda_handler({"step": "merge", "run_id": run["run_id"]}, FakeContext(900_000))
        _close(execution["executionArn"], "SUCCEEDED")

    monkeypatch.setattr("cutover_cli.remote.pause", step)
    report = tmp_path / "remote-report.json"
    result = _cli(settings, "reconcile", "--remote", "--segments", "2", "--json", "--report", str(report))
    # Then the missing item makes it exit 1, with the execution ARN, and the report as a local run's
    assert result.exit_code == 1, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "SUCCEEDED" and out["execution_arn"].endswith(f":{out['run_id']}")
    assert out["counts"]["missing"] == 1 and out["counts"]["compared"] == 10 and out["clean"] is False
    written = json.loads(report.read_text())
    assert [d["source_key"] for d in written["differences"]] == ["u4"]
    latest = ReportStore(clients.dynamodb, settings.names.reports_table).latest(RECONCILE)
    assert latest["run_id"] == out["run_id"] and latest["started_at"] == out["started_at"]


def test_local_and_remote_runs_share_one_lease(settings, clients, deployed, monkeypatch):
    sfn, arns, state = _interrupted_after_two_polls(settings, clients, deployed, monkeypatch)
    args = DETACHABLE
    # Given a remote run the operator detached from (its executions keep running)
    assert _cli(settings, *args).exit_code == 130
    # When a local run starts, Then it is refused (exit 2) in one line naming the remote run
    local = _cli(settings, "backfill", "--table", "users", "--quiet")
    assert local.exit_code == 2
    assert local.stderr.count("\n") == 1 and "nightly-1" in local.stderr and "--steal-lease" in local.stderr
    # And so is another remote run, before it starts any execution
    other = _cli(settings, "backfill", "--remote", "--table", "users", "--run-id", "other", "--quiet")
    assert other.exit_code == 2 and "nightly-1" in other.stderr
    assert [e["name"] for e in _running(sfn, arns["backfill"])] == ["nightly-1-users"]
    # When a re-attach to it with other options is refused, Then the running run keeps its lease
    assert _cli(settings, *args, "--rate", "5").exit_code == 2
    assert "nightly-1" in _cli(settings, "backfill", "--table", "users", "--quiet").stderr
    # When the remote run is re-attached to and finishes, Then it releases the lease: a local run starts
    state["polls"] = 10
    assert _cli(settings, *args).exit_code == 0
    again = _cli(settings, "backfill", "--table", "users", "--quiet")
    assert again.exit_code == 0, again.output
