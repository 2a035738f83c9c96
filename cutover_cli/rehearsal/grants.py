"""What the IAM checker (`policy`) can say about each deployed function without running it.

For every Python function of a deployed template: its role's statements resolved with the
physical ids the deploy produced (so a grant on a table, queue, topic, key or machine is the ARN
AWS would evaluate), then the grants whose resource could not be resolved (the checker matches
them against nothing, so a call under them would be denied in the rehearsal: worth a look) and
the statements whose Conditions it does not evaluate (an Allow it counts as allowing). Node
functions of the CDK Provider framework are not Python handlers and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cutover_cli.rehearsal.policy import Resolver, function_policy

# How CloudFormation names a resource's ARN from its physical id (Ref), by type; None: Ref is the ARN
ARN_OF: dict[str, str | None] = {
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{id}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{id}",
    "AWS::KMS::Key": "arn:aws:kms:{region}:{account}:key/{id}",
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{id}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{region}:{account}:log-group:{id}:*",
    "AWS::SSM::Parameter": "arn:aws:ssm:{region}:{account}:parameter/{id}",
    "AWS::SNS::Topic": None,
    "AWS::StepFunctions::StateMachine": None,
}


@dataclass(frozen=True)
class Finding:
    """One function's static result: how many statements, which grants are unresolved, how many
    statements carry a Condition the checker does not evaluate."""

    stack: str
    function: str  # logical id
    handler: str
    statements: int
    unresolved: tuple[str, ...]
    conditional: int


def resolver(template: Mapping[str, Any], physical: Mapping[str, str], account: str, region: str) -> Resolver:
    """Ref and Fn::GetAtt Arn of every deployed resource, beside what the template fixes itself."""
    base = Resolver.for_template(template, account, region)
    refs, arns = dict(base.refs), dict(base.arns)
    for logical, resource in template.get("Resources", {}).items():
        if logical not in physical:
            continue
        kind, pid = resource["Type"], physical[logical]
        refs.setdefault(logical, pid)
        if kind == "AWS::SQS::Queue":
            arns.setdefault(logical, f"arn:aws:sqs:{region}:{account}:{pid.rstrip('/').rsplit('/', 1)[-1]}")
        elif kind in ARN_OF:
            shape = ARN_OF[kind]
            arns.setdefault(
                logical, pid if shape is None else shape.format(region=region, account=account, id=pid.lstrip("/"))
            )
    return Resolver(account, region, refs, arns)


def findings(
    stack: str, template: Mapping[str, Any], physical: Mapping[str, str], account: str, region: str
) -> list[Finding]:
    """A Finding per Python function of the template."""
    resolve = resolver(template, physical, account, region)
    resources = template.get("Resources", {})
    out: list[Finding] = []
    for logical, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] != "AWS::Lambda::Function" or not str(props.get("Runtime", "")).startswith("python"):
            continue
        # one function and its role's policies: two functions may share a handler name
        role_id = props["Role"]["Fn::GetAtt"][0]
        alone = {
            lid: r
            for lid, r in resources.items()
            if lid in (logical, role_id)
            or (r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"].get("Roles", []))
        }
        policy = function_policy({"Resources": alone}, props["Handler"], resolve)
        out.append(
            Finding(
                stack,
                logical,
                props["Handler"],
                len(policy.statements),
                tuple(sorted(set(policy.unresolved))),
                len(policy.unchecked),
            )
        )
    return out
