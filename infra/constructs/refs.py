"""References to the stateful stack's resources BY NAME (from `cutover.names`), not by export.

Why: cross-stack exports lock the stateful stack (an exported value cannot change while another
stack imports it), which turns a routine change into a two-step deploy. Names are deterministic,
so the consuming stacks rebuild exact ARNs in their own account/region instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct


@dataclass(frozen=True)
class TableRef:
    name: str
    arn: str
    table: dynamodb.ITable


def table_ref(scope: Construct, construct_id: str, name: str) -> TableRef:
    arn = Stack.of(scope).format_arn(service="dynamodb", resource="table", resource_name=name)
    return TableRef(name, arn, dynamodb.Table.from_table_arn(scope, construct_id, arn))


def parameter_arn(scope: Construct, parameter_name: str) -> str:
    """SSM parameter ARN; `parameter_name` starts with '/', which the ARN form drops."""
    return Stack.of(scope).format_arn(service="ssm", resource="parameter", resource_name=parameter_name.lstrip("/"))


def construct_name(role: str) -> str:
    """A source role as a construct id: `products` -> `Products`, `line-items` -> `LineItems` (for the
    seed, the same ids, and so logical ids, as were deployed before roles were generic)."""
    return "".join(part.title() for part in role.split("-"))
