"""DynamoDB tables built FROM `cutover.names.TableSpec`s, and exact-ARN grants.

Keys, attribute types (S/N/B) and GSIs (ALL, KEYS_ONLY or INCLUDE projections) come from the
spec, itself from the migration definition, never retyped here, so the deployed table and the
code that queries it cannot drift. Grants name the table and each index ARN exactly
(no `index/*`), which is what least privilege means for data access.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from cutover.names import Names, TableSpec
from infra.retention import retained

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER, "B": dynamodb.AttributeType.BINARY}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}

READ = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
SCAN = ("dynamodb:Scan",)
WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
INDEX_READ = ("dynamodb:Query",)


def table_from_spec(
    scope: Construct, construct_id: str, spec: TableSpec, *, retain: bool, pitr: bool
) -> dynamodb.Table:
    """On-demand, AWS-managed encryption, PITR as asked, RETAIN when asked; keys and GSIs from `spec`."""
    types = {d["AttributeName"]: _TYPES[d["AttributeType"]] for d in spec.attribute_definitions()}

    def attr(name: str | None) -> dynamodb.Attribute | None:
        return dynamodb.Attribute(name=name, type=types[name]) if name else None

    table = dynamodb.Table(
        scope,
        construct_id,
        table_name=spec.name,
        partition_key=attr(spec.hash_key),
        sort_key=attr(spec.range_key),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=pitr
        ),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if spec.stream else None,
        time_to_live_attribute=spec.ttl_attribute,
        removal_policy=retained(retain),  # not retained_unless_new: see its docstring
        deletion_protection=retain,
    )
    for ix in spec.indexes:
        table.add_global_secondary_index(
            index_name=ix.name,
            partition_key=attr(ix.hash_key),
            sort_key=attr(ix.range_key),
            projection_type=_PROJECTIONS[ix.projection],
            non_key_attributes=list(ix.non_key_attributes) if ix.projection == "INCLUDE" else None,
        )
    return table


def grant_table(
    grantee: iam.IGrantable, table_arn: str, spec: TableSpec, actions: Iterable[str], *, indexes: bool = True
) -> iam.Grant:
    """Grant `actions` on the table ARN and (for Query) on each of the spec's index ARNs, exactly."""
    actions = list(actions)
    resources = [table_arn]
    grant = iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=resources)
    if indexes and spec.indexes and any(a in INDEX_READ for a in actions):
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(INDEX_READ),
            resource_arns=[f"{table_arn}/index/{ix.name}" for ix in spec.indexes],
        )
    return grant


def own_spec(names: Names, role: str) -> TableSpec:
    """One of cutover's own table specs by role (checkpoints | quarantine | reports)."""
    return {spec.role: spec for spec in names.own_specs()}[role]
