"""The IAM action and resource ARNs a boto3 call is authorized against, as AWS documents them per
service (the "Actions, resources, and condition keys" pages of the Service Authorization
Reference, e.g. https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html).

Only what cutover calls is mapped; any other call is checked against Resource "*", so a policy
that did not grant it on everything denies it (the checker fails closed, never open).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# IAM's service prefix where it is not the API's signing name
PREFIX = {"monitoring": "cloudwatch"}
TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
ALWAYS_ALLOWED = {"sts:GetCallerIdentity"}  # AWS answers it whatever the policy says


@dataclass(frozen=True)
class Call:
    """One authorization a call needs: `action` on each of `resources` (all must be allowed)."""

    action: str
    resources: tuple[str, ...]


def prefix_of(service_model: Any) -> str:
    name = service_model.metadata.get("signingName") or service_model.endpoint_prefix
    return PREFIX.get(name, name)


def calls_of(
    prefix: str,
    operation: str,
    params: Mapping[str, Any],
    account: str,
    region: str,
    streams: Mapping[str, str] | None = None,
) -> list[Call]:
    """What AWS checks for `prefix:operation` with these API parameters (the boto3 kwargs);
    `streams`: the stream ARN each shard iterator handed out so far was taken from."""
    action = f"{prefix}:{operation}"
    if action in ALWAYS_ALLOWED:
        return []
    if prefix == "dynamodb":
        if operation == "GetRecords":  # authorized on the stream its iterator was taken from
            return [Call(action, ((streams or {}).get(params.get("ShardIterator", ""), "*"),))]
        return _dynamodb(operation, params, account, region)
    if prefix == "ssm":
        names = params.get("Names") or [params.get("Name") or params.get("Path")]
        return (
            [Call(action, tuple(_parameter_arn(n, account, region) for n in names if n))]
            if any(names)
            else [Call(action, ("*",))]
        )
    if prefix == "sqs":
        url, name = params.get("QueueUrl"), params.get("QueueName")
        queue = url.rstrip("/").rsplit("/", 1)[-1] if url else name
        return [Call(action, (f"arn:aws:sqs:{region}:{account}:{queue}" if queue else "*",))]
    if prefix == "states":
        arn = params.get("stateMachineArn") or params.get("executionArn")
        return [Call(action, (arn or "*",))]
    return [Call(action, ("*",))]


def _table_arn(name: str, account: str, region: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def _dynamodb(operation: str, params: Mapping[str, Any], account: str, region: str) -> list[Call]:
    action = f"dynamodb:{operation}"
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Call(action, tuple(_table_arn(t, account, region) for t in params.get("RequestItems", {})))]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        out = []
        for entry in params.get("TransactItems", []):
            ((kind, body),) = entry.items()
            verb = "GetItem" if kind == "Get" else TRANSACT[kind]
            out.append(Call(f"dynamodb:{verb}", (_table_arn(body["TableName"], account, region),)))
        return out
    if "StreamArn" in params:  # Streams: DescribeStream, GetShardIterator
        return [Call(action, (params["StreamArn"],))]
    table = params.get("TableName") or params.get("ResourceArn")
    if not table:
        return [Call(action, ("*",))]
    arn = _table_arn(table, account, region)
    if params.get("IndexName"):
        arn = f"{arn}/index/{params['IndexName']}"
    return [Call(action, (arn,))]


def _parameter_arn(name: str, account: str, region: str) -> str:
    if name.startswith("arn:"):
        return name
    base = name.split(":", 1)[0]  # `name:version` or `name:label` selects a version of the same parameter
    return f"arn:aws:ssm:{region}:{account}:parameter/{base.lstrip('/')}"
