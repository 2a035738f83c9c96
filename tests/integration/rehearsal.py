"""The rehearsal for the remote-run tests: the dev stage synthesized for this test's service and
migration, its functions and state machines put into the moto server (cutover_cli.rehearsal),
executions run on moto's interpreter with every Lambda task dispatched to its real handler, in
its own worker process, under its synthesized environment and IAM policy.

Nothing here supplies a Lambda's environment: the functions get what the template says (plus the
runtime's variables, lambdas.py). The test supplies only what an operator or the deploy would:
the legacy tables' names and stream ARNs as context, the data, the catalog's secret in SSM.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover.clients import Clients
from cutover.settings import Settings
from cutover_cli.rehearsal.lambdas import Functions, Runtime
from cutover_cli.rehearsal.machines import Deployment, deploy_machines
from cutover_cli.rehearsal.moto_gaps.dynamodb import aws_label
from cutover_cli.rehearsal.moto_gaps.lambda_ import dispatched
from cutover_cli.rehearsal.moto_gaps.stepfunctions import Interpreter, interpreter
from tests.infrastructure.conftest import MIGRATIONS, stage_context

ACCOUNT, REGION = "123456789012", "us-east-1"  # moto's default account: where the CLI's calls land


@dataclass
class Rehearsal:
    deployment: Deployment
    functions: Functions
    interpreter: Interpreter

    def machine(self, kind: str) -> str:
        (arn,) = [a for name, a in self.deployment.machines.items() if name.endswith(f"-cutover-{kind}")]
        return arn


def migration_of(settings: Settings) -> str:
    """ "seed" | "catalog": the shipped definition `settings` runs."""
    chosen = settings.migration or "migrations.seed:MIGRATION"
    (key,) = [k for k, v in MIGRATIONS.items() if (v or "migrations.seed:MIGRATION") == chosen]
    return key


def context(settings: Settings, clients: Clients) -> dict[str, Any]:
    """The dev stage's context for this service, naming the legacy tables `init` created (and
    their real stream ARNs, as an operator passes them)."""
    tables = settings.names.source_tables()
    streams = {
        role: _milliseconds(clients.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"])
        for role, table in tables.items()
    }
    return {
        **stage_context("dev", migration_of(settings)),
        "service": settings.service,
        "legacyTables": tables,
        "legacyStreamArns": streams,
    }


def _milliseconds(stream_arn: str) -> str:
    """moto's stream label in AWS's form (`moto_gaps.dynamodb.aws_label`), which infra/config.py
    accepts. Only the replicator reads a stream, and no test here runs it."""
    head, _, label = stream_arn.rpartition("/stream/")
    return f"{head}/stream/{aws_label(label)}"


def synthesize(ctx: dict[str, Any], outdir: Path, build_dir: Path) -> tuple[dict[str, Any], str]:
    """The replication stack's template and name, its assets staged in `outdir` (the bundles
    built in `build_dir`, content-addressed: shared by every synth of a session)."""
    from infra.app import build_app
    from infra.constructs.code import BUILD_DIR_VARIABLE

    previous = os.environ.get(BUILD_DIR_VARIABLE)
    os.environ[BUILD_DIR_VARIABLE] = str(build_dir)
    try:
        app, stacks = build_app(ctx, outdir=str(outdir))
        assembly = app.synth()
    finally:
        if previous is None:
            os.environ.pop(BUILD_DIR_VARIABLE, None)
        else:
            os.environ[BUILD_DIR_VARIABLE] = previous
    stack = stacks["replication"]
    return assembly.get_stack_by_name(stack.stack_name).template, stack.stack_name


@contextmanager
def rehearse(settings: Settings, clients: Clients, workdir: Path, build_dir: Path) -> Iterator[Rehearsal]:
    template, stack_name = synthesize(context(settings, clients), workdir / "cdk.out", build_dir)
    runtime = Runtime(str(settings.endpoint_url), ACCOUNT, REGION)
    functions = Functions(runtime, workdir / "lambda-logs")
    with ExitStack() as stack:
        played = stack.enter_context(interpreter(runtime.endpoint_url))
        stack.enter_context(dispatched(functions))
        stack.callback(functions.close)
        deployment = deploy_machines(template, stack_name, workdir / "cdk.out", clients, functions)
        rehearsal = Rehearsal(deployment, functions, played)
        stack.callback(_wait_for_executions, clients, rehearsal)
        yield rehearsal


def _wait_for_executions(clients: Clients, rehearsal: Rehearsal, timeout: float = 120.0) -> None:
    """Let every execution still running end (a test that detached leaves one) before the
    workers stop, so no interpreter thread outlives its test (hooks released first)."""
    rehearsal.functions.before = rehearsal.functions.after = None
    sfn = clients.client("stepfunctions")
    deadline = time.monotonic() + timeout
    for arn in rehearsal.deployment.machines.values():
        while sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
            if time.monotonic() > deadline:
                raise AssertionError(f"executions of {arn} still RUNNING after {timeout} s")
            time.sleep(0.1)
