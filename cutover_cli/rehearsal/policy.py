"""A Lambda function's identity policy, read from a synthesized template, evaluated as AWS does.

AWS's rule for one identity policy set: an explicit Deny that matches wins, else an Allow that
matches allows, else the call is denied (implicitly). Action names match case-insensitively,
resource ARNs case-sensitively, both with `*` and `?` wildcards
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
Conditions are NOT evaluated: an Allow with a Condition counts as allowing (said in `unchecked`),
so the checker can only miss a denial there, never invent one.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The AWS managed policies CDK attaches to Lambda roles, as the actions they allow on any resource
MANAGED = {
    "service-role/AWSLambdaBasicExecutionRole": ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
    "service-role/AWSLambdaVPCAccessExecutionRole": (
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    ),
}
UNRESOLVED = "unresolved:"  # a resource the template names by a token no resolver knew: matches nothing


@dataclass(frozen=True)
class Statement:
    effect: str  # Allow | Deny
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditional: bool = False

    def matches(self, action: str, resource: str) -> bool:
        return any(_glob(a.lower(), action.lower()) for a in self.actions) and any(
            _glob(r, resource) for r in self.resources if not r.startswith(UNRESOLVED)
        )


@dataclass(frozen=True)
class Policy:
    """Every statement of one role (its inline and attached policies, and the managed ones)."""

    principal: str  # who is asking, for AWS's message (the role's name)
    statements: tuple[Statement, ...]
    unresolved: tuple[str, ...] = field(default=())

    def allows(self, action: str, resource: str) -> bool:
        if any(s.effect == "Deny" and s.matches(action, resource) for s in self.statements):
            return False
        return any(s.effect == "Allow" and s.matches(action, resource) for s in self.statements)

    def without(self, action: str, resource_fragment: str) -> Policy:
        """This policy with `action` taken off every statement whose resources contain the fragment
        (a test's way to show what a missing grant does)."""
        out = []
        for s in self.statements:
            if any(resource_fragment in r for r in s.resources):
                s = Statement(s.effect, tuple(a for a in s.actions if a != action), s.resources, s.conditional)
            out.append(s)
        return Policy(self.principal, tuple(out), self.unresolved)

    @property
    def unchecked(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.conditional)


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class Resolver:
    """CloudFormation values to text: pseudo parameters, Fn::Join, Fn::Sub (simple), Ref and
    Fn::GetAtt of the resources it was told the physical ids / ARNs of."""

    def __init__(
        self, account: str, region: str, refs: Mapping[str, str] | None = None, arns: Mapping[str, str] | None = None
    ) -> None:
        self.pseudo = {
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.refs, self.arns = dict(refs or {}), dict(arns or {})

    def __call__(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                found = self.pseudo.get(arg) or self.refs.get(arg)
                if found is not None:
                    return found
            elif fn == "Fn::Join":
                return str(arg[0]).join(self(part) for part in arg[1])
            elif fn == "Fn::GetAtt" and arg[1] == "Arn" and arg[0] in self.arns:
                return self.arns[arg[0]]
            elif fn == "Fn::Sub" and isinstance(arg, str):
                return re.sub(r"\$\{([^}]+)\}", lambda m: self({"Ref": m.group(1)}), arg)
        raise LookupError(f"cannot resolve {value!r}")

    @classmethod
    def for_template(cls, template: Mapping[str, Any], account: str, region: str) -> Resolver:
        """Physical names the template fixes itself: tables and queues with a set name."""
        refs, arns = {}, {}
        for lid, res in template.get("Resources", {}).items():
            props = res.get("Properties", {})
            if res["Type"] == "AWS::DynamoDB::Table" and isinstance(props.get("TableName"), str):
                refs[lid] = props["TableName"]
                arns[lid] = f"arn:aws:dynamodb:{region}:{account}:table/{props['TableName']}"
            elif res["Type"] == "AWS::SQS::Queue" and isinstance(props.get("QueueName"), str):
                refs[lid] = f"https://sqs.{region}.amazonaws.com/{account}/{props['QueueName']}"
                arns[lid] = f"arn:aws:sqs:{region}:{account}:{props['QueueName']}"
        return cls(account, region, refs, arns)


def function_policy(template: Mapping[str, Any], handler: str, resolve: Resolver) -> Policy:
    """The policy of the role of the (one) function whose Handler is `handler`."""
    resources = template.get("Resources", {})
    (function,) = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == handler
    ]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    role = resources[role_id]["Properties"]
    documents = [p["PolicyDocument"] for p in role.get("Policies", [])]
    documents += [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"].get("Roles", [])
    ]
    statements, unresolved = _statements(documents, resolve)
    for arn in role.get("ManagedPolicyArns", []):
        name = resolve(arn).split(":policy/", 1)[-1]
        if name not in MANAGED:
            raise LookupError(f"the rehearsal does not know the managed policy {name}: add it to MANAGED")
        statements.append(Statement("Allow", MANAGED[name], ("*",)))
    return Policy(role_id, tuple(statements), tuple(unresolved))


def _statements(documents: Iterable[Mapping[str, Any]], resolve: Resolver) -> tuple[list[Statement], list[str]]:
    statements, unresolved = [], []
    for document in documents:
        for raw in _listed(document.get("Statement", [])):
            if "NotAction" in raw or "NotResource" in raw:
                raise LookupError(f"the rehearsal does not evaluate NotAction/NotResource: {raw}")
            resources = []
            for value in _listed(raw.get("Resource", [])):
                try:
                    resources.append(resolve(value))
                except LookupError:
                    unresolved.append(repr(value))
                    resources.append(UNRESOLVED + repr(value))
            actions = tuple(str(a) for a in _listed(raw.get("Action", [])))
            statements.append(Statement(raw["Effect"], actions, tuple(resources), "Condition" in raw))
    return statements, unresolved
