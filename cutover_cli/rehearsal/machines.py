"""Put a synthesized replication stack's functions and state machines into the emulator.

Why not CloudFormation here: the remote runs need only the Lambda functions, their roles, the two
state machines and the published names; `deploy_machines` creates exactly those from the
template, resolving its intrinsics as CloudFormation would (the machines' Fn::Join'd definitions
get the functions' ARNs), so a later deploy through moto's CloudFormation can replace this one
function and keep everything that uses its `Deployment`. The tables are the backend's
(`cutover init` creates them under the same names the template fixes).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover_cli.rehearsal.lambdas import Functions, FunctionSpec
from cutover_cli.rehearsal.policy import Resolver, function_policy

LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
# moto stores a function's code but never runs it here (moto_gaps/lambda_.py runs the asset
# folder's): a placeholder archive, so no upload of the whole asset per deploy.
PLACEHOLDER = io.BytesIO()
with zipfile.ZipFile(PLACEHOLDER, "w") as _zip:
    _zip.writestr("README", "the rehearsal runs this function from its CDK asset folder")


@dataclass(frozen=True)
class Deployment:
    machines: dict[str, str]  # StateMachineName -> ARN
    functions: dict[str, FunctionSpec]  # logical id -> spec
    parameter: str  # the published names' SSM parameter


def _physical(stack_name: str, logical_id: str) -> str:
    """A generated physical name as CloudFormation makes one: the stack and the logical id,
    within the 64 characters IAM role and Lambda function names allow (unique when cut)."""
    name = f"{stack_name}-{logical_id}"
    if len(name) <= 64:
        return name
    return f"{name[:55]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _typed(template: Mapping[str, Any], cfn_type: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template.get("Resources", {}).items() if r["Type"] == cfn_type}


def deploy_machines(
    template: Mapping[str, Any],
    stack_name: str,
    assembly_dir: Path,
    clients: Any,
    functions: Functions,
) -> Deployment:
    """Create the stack's Python functions (registered in `functions`), their roles, its state
    machines and its published-names parameter in the emulator `clients` reach.

    Raises:
        LookupError: the template names something this deploy cannot resolve (said by value).
    """
    runtime = functions.runtime
    account, region = runtime.account, runtime.region
    base = Resolver.for_template(template, account, region)
    iam, lam, sfn = clients.client("iam"), clients.client("lambda"), clients.client("stepfunctions")
    arns = dict(base.arns)
    refs = dict(base.refs)
    roles = {}
    for lid in _typed(template, "AWS::IAM::Role"):
        name = _physical(stack_name, lid)
        roles[lid] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]["Arn"]
        arns[lid], refs[lid] = roles[lid], name
    python = {lid: r for lid, r in _typed(template, "AWS::Lambda::Function").items() if _is_python(r)}
    for lid in python:
        name = _physical(stack_name, lid)
        arns[lid], refs[lid] = f"arn:aws:lambda:{region}:{account}:function:{name}", name
    for lid, res in _typed(template, "AWS::StepFunctions::StateMachine").items():
        name = res["Properties"]["StateMachineName"]
        arns[lid] = refs[lid] = f"arn:aws:states:{region}:{account}:stateMachine:{name}"
    resolve = Resolver(account, region, refs, arns)
    specs = {}
    for lid, res in python.items():
        props = res["Properties"]
        spec = FunctionSpec(
            name=refs[lid],
            arn=arns[lid],
            handler=props["Handler"],
            asset=assembly_dir / f"asset.{props['Code']['S3Key'].removesuffix('.zip')}",
            environment={k: resolve(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()},
            policy=function_policy(template, props["Handler"], resolve),
            timeout=float(props.get("Timeout", 3)),
            role_arn=roles[props["Role"]["Fn::GetAtt"][0]],
        )
        if not spec.asset.is_dir():
            raise LookupError(f"{lid}: no asset folder {spec.asset}: synthesize into {assembly_dir} first")
        lam.create_function(
            FunctionName=spec.name,
            Runtime=props.get("Runtime", "python3.12"),
            Role=spec.role_arn,
            Handler=spec.handler,
            Code={"ZipFile": PLACEHOLDER.getvalue()},
            Timeout=int(spec.timeout),
            Environment={"Variables": spec.environment},
        )
        functions.add(spec)
        specs[lid] = spec
    machines = {}
    for res in _typed(template, "AWS::StepFunctions::StateMachine").values():
        props = res["Properties"]
        definition = resolve(props["DefinitionString"])
        created = sfn.create_state_machine(
            name=props["StateMachineName"], definition=definition, roleArn=resolve(props["RoleArn"])
        )
        machines[props["StateMachineName"]] = created["stateMachineArn"]
    ssm = clients.ssm
    (parameter,) = [
        r["Properties"]
        for r in _typed(template, "AWS::SSM::Parameter").values()
        if str(r["Properties"].get("Name", "")).endswith("/cutover/deployment")
    ]
    ssm.put_parameter(Name=parameter["Name"], Type="String", Value=resolve(parameter["Value"]), Overwrite=True)
    return Deployment(machines, specs, parameter["Name"])


def _is_python(resource: Mapping[str, Any]) -> bool:
    """Our handlers (CDK's Node provider-framework functions are not run by the rehearsal)."""
    return str(resource["Properties"].get("Runtime", "")).startswith("python")
