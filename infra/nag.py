"""Helpers for cdk-nag 3.x acknowledgements (CDK `Validations.of(x).acknowledge`).

cdk-nag 3 acknowledges each finding by its exact id, e.g. `AwsSolutions-IAM5[Resource::<FnX.Arn>:*]`,
and the id embeds the resource's logical id. Computing it from the construct keeps suppressions
precise (one finding, one reason) without hard-coding hashed logical ids.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Stack, Token, Validations
from constructs import IConstruct


def logical_id(construct: IConstruct) -> str:
    """Logical id of `construct` (or of its default CloudFormation child)."""
    element = construct if isinstance(construct, CfnElement) else construct.node.default_child
    return Stack.of(construct).resolve(Stack.of(construct).get_logical_id(element))  # type: ignore[arg-type]


def arn_ref(construct: IConstruct) -> str:
    """How cdk-nag prints `Fn::GetAtt [X, Arn]` inside a finding id."""
    return f"<{logical_id(construct)}.Arn>"


def env_text(construct: IConstruct) -> tuple[str, str]:
    """(region, account) as cdk-nag prints them inside an ARN for this construct's stack.

    Environment-agnostic stacks print the pseudo parameters (`<AWS::Region>`); stacks synthesized
    with `-c account=... -c region=...` (as runbooks/deploy.md does) print the concrete values, so
    an acknowledgement written for only one form leaves the other finding unacknowledged.
    """
    stack = Stack.of(construct)
    region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    return region, account


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge exactly one finding (rule id, optionally `[detail]`) with a written reason."""
    Validations.of(construct).acknowledge(Acknowledgment(id=finding, reason=reason))


def checkov_skip(construct: IConstruct, check: str, reason: str) -> None:
    """Skip one checkov check on one resource, with a reason (template Metadata, as checkov reads it)."""
    element = construct if isinstance(construct, CfnElement) else construct.node.default_child
    metadata = element.get_metadata("checkov") or {"skip": []}  # type: ignore[union-attr]
    metadata["skip"].append({"id": check, "comment": reason})
    element.add_metadata("checkov", metadata)  # type: ignore[union-attr]
