"""The read-source flag in tests: set it as the rollback runbook's emergency command does, read
what the API obeys (its owner: the flip control item in the reports table, docs/CONTRACT.md)."""

from __future__ import annotations

from typing import Any

from cutover.codec import to_ddb
from cutover.state import CONTROL, FLIP


def set_read_source(settings: Any, clients: Any, value: str) -> None:
    """The owner's value, bumped past any flip in flight (no history record, like the runbook's)."""
    clients.dynamodb.update_item(
        TableName=settings.names.reports_table,
        Key=to_ddb({"pk": FLIP, "sk": CONTROL}),
        UpdateExpression="SET readSource = :v ADD version :one",
        ExpressionAttributeValues=to_ddb({":v": value, ":one": 1}),
    )


def read_source(settings: Any, clients: Any) -> str | None:
    """What the API reads now, uncached (the same decoding as `cutover status`)."""
    from controlplane.evidence import Stores

    return Stores.build(settings, clients).flag.get()


def mirror(settings: Any, clients: Any) -> str:
    """The SSM parameter people and dashboards read: a mirror, never obeyed."""
    return clients.ssm.get_parameter(Name=settings.names.read_source_parameter)["Parameter"]["Value"]
