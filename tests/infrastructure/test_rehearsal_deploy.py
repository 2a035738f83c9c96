"""The synthesized stacks deploy through CloudFormation into moto (`cutover rehearse`'s deploy,
cutover_cli/rehearsal/rehearse.py): one stage per shipped migration, the seed's dev and the
catalog's staging (two sources, a composite key, a secret, no API). Every stage of both runs
only in `cutover rehearse` (runbooks/deploy.md).

Each deploy makes its own legacy tables (stream, PITR, deletion protection, as the Serverless
stack has them), synthesizes against their stream ARNs, and deploys every stack in dependency
order; the legacy check and the flag's creation run from their deployed zips. The checks run
through the seam a migration run will use (`run`, called with the deployed stacks).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from cutover_cli.rehearsal import deploy
from cutover_cli.rehearsal.deploy import StackResult
from cutover_cli.rehearsal.rehearse import Deployment, Report, Step, rehearse

# moto warns once per resource type it does not emulate; the report lists them (`unemulated`)
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")


def synthesize_in_process(context: Mapping[str, Any], outdir: Path) -> Path:
    """The app synthesized in this process (jsii is already up here; the CLI uses a child)."""
    from infra.app import build_app

    app, _ = build_app(dict(context), outdir=str(outdir))
    app.synth()
    return outdir


def inspect(seen: dict[str, Any]):
    """A `run` that records what the deployed backend holds, for the test to assert on."""

    def run(deployment: Deployment) -> list[Step]:
        from cutover.clients import Clients

        clients = Clients(deployment.settings)
        names = deployment.settings.names
        seen["flag"] = clients.ssm.get_parameter(Name=names.read_source_parameter)["Parameter"]["Value"]
        pages = clients.dynamodb.get_paginator("list_tables").paginate()  # 100 names a page; other tests' too
        seen["tables"] = {name for page in pages for name in page["TableNames"]}
        functions = deployment.physical_ids("AWS::Lambda::Function")
        lam = clients.client("lambda")
        seen["handlers"] = {lam.get_function(FunctionName=f)["Configuration"]["Handler"] for f in functions.values()}
        machines = deployment.physical_ids("AWS::StepFunctions::StateMachine")
        states = clients.client("stepfunctions")
        seen["machines"] = [states.describe_state_machine(stateMachineArn=arn)["status"] for arn in machines.values()]
        seen["names"] = names
        if seen.get("then_fail"):
            seen["redeploy"] = redeploy_with_pitr_off(deployment, clients)
        return [Step("inspect", True, 0.0, f"{len(functions)} functions")]

    return run


def redeploy_with_pitr_off(deployment: Deployment, clients) -> list[StackResult]:
    """The stage's stacks deleted, a legacy table's point-in-time recovery switched off (someone
    edited serverless.yml), and the same assembly deployed again: the legacy check must fail it."""
    cfn = clients.client("cloudformation")
    for stack in reversed(deployment.stacks):
        cfn.delete_stack(StackName=stack.name)
    table = deployment.settings.names.source_table(deployment.settings.names.roles[0])
    clients.dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    return deploy.deploy_assembly(clients, deployment.assembly, deployment.account, deployment.region)


@pytest.fixture(
    scope="module",
    params=[("dev", None), ("staging", "migrations.catalog:MIGRATION")],
    ids=["seed-dev", "catalog-staging"],
)
def rehearsed(request) -> tuple[Report, dict[str, Any]]:
    stage, migration = request.param
    seen: dict[str, Any] = {"then_fail": migration is None}  # once: the seed's dev
    report = rehearse(
        service=f"r{uuid.uuid4().hex[:8]}",
        stage=stage,
        migration=migration,
        run=inspect(seen),
        synthesize=synthesize_in_process,
    )
    return report, seen


def test_every_stack_deploys_in_dependency_order(rehearsed):
    report, _ = rehearsed
    assert report.error is None
    assert [s.status for s in report.stacks] == ["CREATE_COMPLETE"] * len(report.expected_stacks), [
        (s.name, s.reason) for s in report.stacks
    ]
    assert [s.name for s in report.stacks][0].endswith("-stateful")  # what the others read by name
    assert all(s.resources > 0 for s in report.stacks)
    assert report.ok


def test_the_custom_resources_ran_their_handlers(rehearsed):
    """The legacy check passed (its physical id records the pass, infra/functions/legacy_check) and
    the flag's creator made the read-source parameter with its initial value."""
    report, seen = rehearsed
    verdicts = {kind: verdict for _, kind, verdict in report.custom}
    assert verdicts["Custom::LegacyTableCheck"].startswith("passed (legacy-check-")
    assert "-passed-" in verdicts["Custom::LegacyTableCheck"]
    assert verdicts["Custom::ReadSourceFlag"] == f"passed ({seen['names'].read_source_parameter})"
    assert seen["flag"] == "legacy"


def test_the_seam_gets_the_deployed_system(rehearsed):
    """The run sees the deployed tables, functions (by physical id) and machines."""
    report, seen = rehearsed
    names = seen["names"]
    assert {names.v3_table, names.checkpoints_table, names.reports_table} <= seen["tables"]
    assert {"replicator.handler.lambda_handler", "backfill.segment_lambda.lambda_handler"} <= seen["handlers"]
    assert seen["machines"] == ["ACTIVE", "ACTIVE"]
    assert report.ran and [s.name for s in report.steps] == ["inspect"]


def test_iam_findings_cover_every_python_function(rehearsed):
    """Every Python function's policy resolved against the deployed ids: no grant left unresolved."""
    report, seen = rehearsed
    assert len({f.function for f in report.grants}) >= 6  # replication 4 + the 2 custom resources
    assert [f for f in report.grants if f.unresolved] == []
    assert report.unemulated  # moto skips AWS Backup and alarms: the report says so


def test_a_failed_deploy_is_reported_with_cloudformations_reason_and_stops_there(rehearsed):
    """The real stage redeployed over a legacy table without point-in-time recovery: the stateful
    stack fails at the legacy check with the check's own message, rolls back, and nothing that
    depends on it is created (as `cdk deploy` stops)."""
    _, seen = rehearsed
    if "redeploy" not in seen:
        pytest.skip("run once, on the seed's dev")
    (stateful,) = seen["redeploy"]
    assert stateful.name.endswith("-stateful") and stateful.status == "ROLLBACK_COMPLETE"
    assert stateful.reason is not None
    assert "(Custom::LegacyTableCheck): Received response status [FAILED]" in stateful.reason
    table = seen["names"].source_table(seen["names"].roles[0])
    assert f"table {table} has point-in-time recovery DISABLED, not ENABLED" in stateful.reason
