"""How RecordApplier classifies errors: quarantine (succeed) vs. retry (fail the record)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from cutover.migration_loader import load_migration
from replicator.engine import Replicator, ReplicatorConfig
from replicator.record_apply import RecordOutcome

# fixed-date: the label only makes versions these records compare among themselves
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/users/stream/2026-01-01T00:00:00"
CONFIG = ReplicatorConfig(
    (("users", "users"), ("orders", "orders")), "v3", "quarantine", load_migration(), write_concurrency=1
)


class FakeClient:
    """A DynamoDB client whose put_item raises `errors[table]` (a list consumed in order) or records the item."""

    def __init__(self, errors: dict[str, list[Exception]] | None = None) -> None:
        self.errors = errors or {}
        self.items: dict[str, list[dict[str, Any]]] = {}

    def put_item(self, TableName: str, Item: dict[str, Any], **_: Any) -> dict[str, Any]:
        pending = self.errors.get(TableName)
        if pending:
            raise pending.pop(0)
        self.items.setdefault(TableName, []).append(Item)
        return {}


def client_error(code: str, message: str = "nope") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "PutItem")


def user_record(seq: str = "1", email: str = "a@x.com") -> dict[str, Any]:
    image = {"userId": {"S": "u1"}, "email": {"S": email}}
    return {
        "eventSourceARN": ARN,
        "eventName": "INSERT",
        "dynamodb": {"Keys": {"userId": {"S": "u1"}}, "NewImage": image, "SequenceNumber": seq},
    }


@pytest.mark.parametrize(
    "error",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("ThrottlingException"),
        client_error("RequestLimitExceeded"),
        client_error("InternalServerError"),
        client_error("ServiceUnavailable"),
        client_error("ResourceNotFoundException"),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
    ],
)
def test_transient_errors_fail_the_record(error):
    # Given v3 writes failing with a transient error, When the record is handled
    client = FakeClient({"v3": [error]})
    with Replicator(CONFIG, client) as rep:
        response = rep.handle({"Records": [user_record("77")]})
    # Then it is a batch item failure, and nothing was quarantined
    assert response == {"batchItemFailures": [{"itemIdentifier": "77"}]}
    assert "quarantine" not in client.items and rep.outcomes["failed"] == 1


def test_validation_exception_is_quarantined_as_write_rejected():
    # Given DynamoDB rejecting the put for good
    client = FakeClient(
        {"v3": [client_error("ValidationException", "Item size has exceeded the maximum allowed size")]}
    )
    with Replicator(CONFIG, client) as rep:
        response = rep.handle({"Records": [user_record()]})
    # Then the record succeeds: the key is tombstoned and a write_rejected entry names the error
    assert response == {"batchItemFailures": []}
    (tomb,) = client.items["v3"]
    assert tomb["_deleted"] == {"BOOL": True}
    (entry,) = client.items["quarantine"]
    assert entry["reason"] == {"S": "write_rejected"}
    assert "ValidationException: Item size has exceeded" in entry["detail"]["S"]
    assert rep.totals.quarantined == 1 and rep.totals.tombstoned == 1


def test_quarantine_outage_fails_the_record_instead_of_losing_it():
    # Given a bad item and a throttled quarantine table
    client = FakeClient({"quarantine": [client_error("ThrottlingException")]})
    with Replicator(CONFIG, client) as rep:
        response = rep.handle({"Records": [user_record("5", email="   ")]})
    # Then the record is retried, not dropped
    assert response == {"batchItemFailures": [{"itemIdentifier": "5"}]}


def test_unparseable_record_goes_to_quarantine_with_the_raw_record():
    client = FakeClient()
    bad = user_record("9")
    bad["eventSourceARN"] = "garbage"
    with Replicator(CONFIG, client) as rep:
        assert rep.handle({"Records": [bad]}) == {"batchItemFailures": []}
    (entry,) = client.items["quarantine"]
    assert entry["pk"] == {"S": "unknown"} and entry["sk"] == {"S": "garbage#9"}
    raw = json.loads(entry["raw"]["S"])
    assert json.loads(raw["record"]["S"]) == bad
    assert rep.outcomes[RecordOutcome.QUARANTINED.value] == 1
