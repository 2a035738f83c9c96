"""`cutover rehearse`'s work: synthesize a stage, deploy it into a local moto server through
CloudFormation, and say what happened, before anything is deployed to AWS.

Order, as on AWS: the legacy tables exist first (the Serverless stack made them), then
`cdk bootstrap`'s bucket and version parameter, then the stacks in dependency order, their
custom resources (the legacy check, the flag's creation) run from their deployed code. Then the
seam: `run_migration(deployment)` gets the deployed stacks' outputs and physical ids and runs
the migration through them (not built here: issue 20, "the machines on moto"); its steps join
the report.
"""

from __future__ import annotations

import io
import json
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cutover.errors import CutoverError
from cutover.settings import Settings
from cutover_cli.rehearsal.deploy import StackResult
from cutover_cli.rehearsal.report import Deployment, Report, Step

__all__ = ["Deployment", "MigrationRun", "Report", "Step", "rehearse", "run_migration"]

ACCOUNT = "123456789012"  # moto's default account
POWERTOOLS_PARAMETER_PREFIX = "/aws/service/powertools/python/"


MigrationRun = Callable[[Deployment], Sequence[Step]]


def run_migration(deployment: Deployment) -> Sequence[Step]:
    """The seam for running the migration end to end on the deployed system (legacy writes ->
    event source -> replicator, backfill and reconcile through the machines, flip). Not built
    yet: no steps."""
    return ()


def standin_layer() -> bytes:
    """The Powertools layer the templates name, as Lambda mounts it (`python/aws_lambda_powertools`),
    from the copy installed here (AWS's is the same package, published by AWS's account)."""
    import aws_lambda_powertools

    package = Path(aws_lambda_powertools.__file__).parent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, f"python/aws_lambda_powertools/{path.relative_to(package).as_posix()}")
    return buffer.getvalue()


def publish_public_parameters(clients: Any, assembly: Path, account: str, region: str) -> list[str]:
    """Every AWS-published parameter the templates resolve: the Powertools layer ARN, pointed at a
    stand-in layer version in the local Lambda. Returns the parameter names."""
    from cutover_cli.rehearsal.moto_gaps.cloudformation import publish_public_parameter

    names = set()
    for template in assembly.glob("*.template.json"):
        for parameter in json.loads(template.read_text()).get("Parameters", {}).values():
            default = str(parameter.get("Default", ""))
            if default.startswith(POWERTOOLS_PARAMETER_PREFIX):
                names.add(default)
    if names:
        layer = clients.client("lambda").publish_layer_version(
            LayerName="AWSLambdaPowertoolsPythonV3-rehearsal",
            Content={"ZipFile": standin_layer()},
            CompatibleRuntimes=["python3.12"],
        )["LayerVersionArn"]
        for name in sorted(names):
            publish_public_parameter(account, region, name, layer)
    return sorted(names)


def rehearse(
    *,
    service: str,
    stage: str,
    migration: str | None,
    extra_context: Mapping[str, str] | None = None,
    run: MigrationRun = run_migration,
    synthesize: Callable[[Mapping[str, Any], Path], Path] | None = None,
    workdir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Rehearse one stage's deploy on a fresh local backend (gone when this returns).

    `synthesize(context, outdir)`: how to make the assembly (default: the CDK app in a child
    process, `stage.synthesize`); a test may synthesize in process instead. `progress` hears what
    is being done (synthesis takes a minute).
    """
    say = progress or (lambda _message: None)
    from cutover.clients import Clients
    from cutover_cli.local_backend import LocalServer
    from cutover_cli.rehearsal import deploy, grants
    from cutover_cli.rehearsal import stage as stages
    from cutover_cli.rehearsal.moto_gaps import cloudformation, dynamodb

    region = "us-east-1"
    report = Report(service, stage, migration or "default")
    started = time.monotonic()
    with (
        cloudformation.applied(),
        dynamodb.applied(),
        LocalServer() as server,
        tempfile.TemporaryDirectory(prefix="cutover-rehearse-") as tmp,
    ):
        cloudformation.configure(endpoint_url=server.endpoint_url, region=region)
        settings = Settings(
            service=service, stage=stage, region=region, endpoint_url=server.endpoint_url, migration=migration
        )
        clients = Clients(settings)
        try:
            legacy = stages.create_legacy_tables(settings.names, clients.dynamodb)
            context = stages.stage_context(
                service=service,
                stage=stage,
                migration=migration,
                legacy=legacy,
                account=ACCOUNT,
                region=region,
                extra=extra_context,
            )
            outdir = (workdir or Path(tmp)) / "cdk.out"
            say(f"synthesizing {service}-{stage}")
            assembly = (synthesize or stages.synthesize)(context, outdir)
        except CutoverError as error:
            report.error = str(error)
            return report
        report.seconds["synth"] = round(time.monotonic() - started, 1)
        manifest = json.loads((assembly / "manifest.json").read_text())
        report.expected_stacks = deploy.stack_order(manifest)
        templates = {
            name: json.loads((assembly / manifest["artifacts"][name]["properties"]["templateFile"]).read_text())
            for name in report.expected_stacks
        }
        deploy.bootstrap(clients, ACCOUNT, region)
        publish_public_parameters(clients, assembly, ACCOUNT, region)
        began = time.monotonic()
        report.stacks = deploy.deploy_assembly(clients, assembly, ACCOUNT, region, progress=say)
        report.seconds["deploy"] = round(time.monotonic() - began, 1)
        for result in report.stacks:
            template = templates[result.name]
            report.unemulated[result.name] = cloudformation.unemulated_types(template)
            report.custom += _custom_verdicts(result, template)
            if result.ok:
                report.grants += grants.findings(result.name, template, result.physical_ids, ACCOUNT, region)
        if all(s.ok for s in report.stacks) and run is not run_migration:
            report.ran = True
            began = time.monotonic()
            report.steps = list(run(Deployment(settings, ACCOUNT, region, tuple(report.stacks), assembly)))
            report.seconds["run"] = round(time.monotonic() - began, 1)
    report.seconds["total"] = round(time.monotonic() - started, 1)
    return report


def _custom_verdicts(result: StackResult, template: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Each custom resource of the stack: passed (with the physical id its handler answered), failed
    (CloudFormation's reason), or not reached (the stack failed before it)."""
    out = []
    failed = (result.reason or "").split(" ", 1)[0] if not result.ok else None
    for logical, resource in template.get("Resources", {}).items():
        kind = resource["Type"]
        if not kind.startswith("Custom::"):
            continue
        if result.ok:
            verdict = f"passed ({result.physical_ids.get(logical, '?')})"
        elif logical == failed:
            verdict = "FAILED: " + (result.reason or "").split(": ", 1)[-1]
        else:
            verdict = "not reached"
        out.append((logical, kind, verdict))
    return out
