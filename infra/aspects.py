"""Aspects that make unsafe infrastructure fail at synth instead of in production.

`RequireRetain` is added to every prod stack: a DynamoDB table, secret, backup vault, KMS key
or SQS queue (ours all hold failures) whose deletion or update-replace policy is not Retain
would be deleted by a bad `cdk deploy` or a replacing change. Synthesis fails naming each one.
"""
from __future__ import annotations

import jsii
from aws_cdk import CfnDeletionPolicy, CfnResource, IAspect, Stack
from constructs import IConstruct

from cutover.errors import ConfigError

STATEFUL_TYPES = frozenset({
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::SecretsManager::Secret",
    "AWS::Backup::BackupVault",
    "AWS::KMS::Key",
    "AWS::SQS::Queue",
})


class UnretainedResourceError(ConfigError):
    """A stateful resource in a prod stack could be deleted or replaced by a deploy."""


def unretained(stack: Stack) -> list[str]:
    """Construct paths of stateful resources in `stack` lacking Retain deletion/replace policies."""
    found: list[str] = []
    for node in stack.node.find_all():
        if not isinstance(node, CfnResource) or node.cfn_resource_type not in STATEFUL_TYPES:
            continue
        if Stack.of(node) is not stack:
            continue  # nested stacks are checked on their own visit
        options = node.cfn_options
        if options.deletion_policy != CfnDeletionPolicy.RETAIN or options.update_replace_policy != CfnDeletionPolicy.RETAIN:
            found.append(f"{node.node.path} ({node.cfn_resource_type})")
    return found


@jsii.implements(IAspect)
class RequireRetain:
    """Fail synthesis if any stateful resource in the stack is not retained.

    Checks the whole stack when the stack itself is visited (aspects visit top-down, so all
    children exist), so one error names every offender rather than only the first.
    """

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, Stack):
            return
        offenders = unretained(node)
        if offenders:
            raise UnretainedResourceError(
                f"prod stack {node.stack_name} has stateful resources without a Retain "
                f"deletion/update-replace policy: {', '.join(offenders)}. "
                "Apply RemovalPolicy.RETAIN (infra/ does this when stage=prod) before deploying."
            )
