"""Check every boto3 call of this process against one IAM policy before it is sent.

Why at `BaseClient._make_api_call`: every client of every session goes through it with the API
parameters as given (before serialization), and raising a ClientError there is exactly what the
caller sees from AWS: botocore.exceptions.ClientError with code AccessDeniedException
(DynamoDB, SQS's JSON protocol, Step Functions) or AccessDenied, and AWS's message shape:
"User: <arn> is not authorized to perform: <action> on resource: <arn> because no
identity-based policy allows the <action> action".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from cutover_cli.rehearsal.calls import calls_of, prefix_of
from cutover_cli.rehearsal.policy import Policy

ERROR_CODE = {"ssm": "AccessDeniedException", "sqs": "AccessDenied"}  # DynamoDB, states: AccessDeniedException


@dataclass
class Denials:
    """What was refused (`seen`) and what was checked (`checked`), in order: (action, resource)
    pairs, for the rehearsal's report."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    checked: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def enforced(policy: Policy, account: str, region: str) -> Iterator[Denials]:
    """Within the block, a call `policy` does not allow fails as AWS fails it; yields the denials."""
    original = getattr(BaseClient, "_make_api_call")  # noqa: B009 - a private botocore method: say so
    denials, lock = Denials(), threading.Lock()
    streams: dict[str, str] = {}

    def checked(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        prefix = prefix_of(client.meta.service_model)
        with lock:
            needed = calls_of(prefix, operation, params, account, region, streams)
        for call in needed:
            for resource in call.resources:
                with lock:
                    denials.checked.append((call.action, resource))
                if not policy.allows(call.action, resource):
                    with lock:
                        denials.seen.append((call.action, resource))
                    raise _denied(prefix, operation, policy, account, call.action, resource)
        response = original(client, operation, params)
        if prefix == "dynamodb" and operation in ("GetShardIterator", "GetRecords"):
            _remember(streams, lock, operation, params, response)
        return response

    setattr(BaseClient, "_make_api_call", checked)  # noqa: B010
    try:
        yield denials
    finally:
        setattr(BaseClient, "_make_api_call", original)  # noqa: B010


def _remember(streams: dict[str, str], lock: threading.Lock, operation: str, params: Any, response: Any) -> None:
    with lock:
        if operation == "GetShardIterator" and response.get("ShardIterator"):
            streams[response["ShardIterator"]] = params["StreamArn"]
        elif operation == "GetRecords" and response.get("NextShardIterator"):
            stream = streams.get(params.get("ShardIterator", ""))
            if stream:
                streams[response["NextShardIterator"]] = stream


def _denied(prefix: str, operation: str, policy: Policy, account: str, action: str, resource: str) -> ClientError:
    principal = f"arn:aws:sts::{account}:assumed-role/{policy.principal}/rehearsal"
    message = (
        f"User: {principal} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action"
    )
    code = ERROR_CODE.get(prefix, "AccessDeniedException")
    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}
    return ClientError(response, operation)
