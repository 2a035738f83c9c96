"""The Lambda entry point with a recorded DynamoDB Streams event, as AWS delivers it.

Goes through everything a deployed function does: cold-start env validation, the client
factory (endpoint from CUTOVER_ENDPOINT_URL), Powertools Logger/Metrics/BatchProcessor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cutover.codec import from_ddb, to_ddb
from cutover.errors import ConfigError
from replicator import handler

pytestmark = pytest.mark.server
EVENT_FILE = Path(__file__).parents[1] / "events" / "dynamodb_stream_event.json"


@dataclass
class FakeContext:
    function_name: str = "cutover-replicator"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:cutover-replicator"
    aws_request_id: str = "7f0c2a4e-0000-4000-8000-000000000001"


def lambda_env(settings) -> dict[str, str]:
    names = settings.names
    return {
        "SERVICE": settings.service,
        "STAGE": "dev",
        "POWERTOOLS_SERVICE_NAME": "cutover-replicator",
        "LOG_LEVEL": "INFO",
        "SOURCE_TABLES": json.dumps({"users": names.source_table("users"), "orders": names.source_table("orders")}),
        "V3_TABLE": names.v3_table,
        "QUARANTINE_TABLE": names.quarantine_table,
        "CHECKPOINTS_TABLE": names.checkpoints_table,
        "WRITE_CONCURRENCY": "4",
        "CUTOVER_ENDPOINT_URL": settings.endpoint_url,
        "AWS_REGION": "us-east-1",
    }


@pytest.fixture
def cold_handler(monkeypatch):
    """The handler module as in a fresh container: no Replicator built yet."""
    handler.cold_start.reset()
    yield handler
    if handler.cold_start.built is not None:
        handler.cold_start.built.close()
    handler.cold_start.reset()


def recorded_event(settings) -> dict[str, Any]:
    text = EVENT_FILE.read_text().replace("my-service-dev-", f"{settings.service}-dev-")
    return json.loads(text)


def v3(clients, settings, user_id: str, record_type: str) -> dict[str, Any] | None:
    resp = clients.dynamodb.get_item(
        TableName=settings.names.v3_table,
        Key=to_ddb({"userId": user_id, "recordType": record_type}),
        ConsistentRead=True,
    )
    return from_ddb(resp["Item"]) if "Item" in resp else None


def test_recorded_event_replicates_through_lambda_handler(settings, clients, cold_handler, monkeypatch, capsys):
    # Given the Lambda environment and the recorded event (two tables, INSERT/MODIFY/REMOVE)
    for name, value in lambda_env(settings).items():
        monkeypatch.setenv(name, value)
    event = recorded_event(settings)
    # When Lambda invokes the handler
    response = cold_handler.lambda_handler(event, FakeContext())
    # Then no record failed and v3 holds the contract's transform of the newest images
    assert response == {"batchItemFailures": []}
    profile = {k: v for k, v in v3(clients, settings, "u-101", "PROFILE").items() if not k.startswith("_")}
    assert profile == {
        "userId": "u-101",
        "recordType": "PROFILE",
        "entityType": "USER",
        "email": "alice@example.com",
        "name": "Alice Smith",
        "timestamp": "2015-06-27T00:48:05.000Z",
        "tags": {"beta", "vip"},
    }
    order = v3(clients, settings, "u-101", "ORDER#o-9001")
    assert order["total"] == Decimal("42.50") and order["timestamp"] == "2015-06-27T00:48:11.250Z"
    assert order["_source"] == "orders#o-9001" and order["_version"].startswith("20150627T004912103000.")
    assert v3(clients, settings, "u-102", "PROFILE")["_deleted"] is True
    # And the batch's metrics were published in EMF under the "cutover" namespace
    out = capsys.readouterr().out
    emf = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    assert emf and emf[-1]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "cutover"
    assert emf[-1]["RecordsApplied"] == [4.0] and emf[-1]["RecordsFailed"] == [0.0]
    assert emf[-1]["ReplicationLagMs"][0] > 0


def test_redelivered_event_is_a_no_op(settings, clients, cold_handler, monkeypatch):
    # Given the event already applied once
    for name, value in lambda_env(settings).items():
        monkeypatch.setenv(name, value)
    cold_handler.lambda_handler(recorded_event(settings), FakeContext())
    before = v3(clients, settings, "u-101", "PROFILE")
    # When Lambda delivers it again
    response = cold_handler.lambda_handler(recorded_event(settings), FakeContext())
    # Then nothing fails and nothing changes
    assert response == {"batchItemFailures": []}
    assert v3(clients, settings, "u-101", "PROFILE") == before
    assert cold_handler.cold_start.built.replicator.outcomes["skipped"] == 4


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_bad_environment_fails_at_cold_start_naming_every_variable(cold_handler, monkeypatch):
    # Given a function deployed with missing variables and an unresolved placeholder
    for name in (
        "SERVICE",
        "STAGE",
        "POWERTOOLS_SERVICE_NAME",
        "LOG_LEVEL",
        "SOURCE_TABLES",
        "V3_TABLE",
        "QUARANTINE_TABLE",
        "WRITE_CONCURRENCY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("V3_TABLE", "${Token[TOKEN.123]}")
    # When it is invoked (importing the module did not fail: we got here)
    with pytest.raises(ConfigError) as caught:
        cold_handler.lambda_handler({"Records": []}, FakeContext())
    # Then one error names every problem
    message = str(caught.value)
    for name in (
        "SERVICE",
        "STAGE",
        "POWERTOOLS_SERVICE_NAME",
        "SOURCE_TABLES",
        "QUARANTINE_TABLE",
    ):
        assert f"{name} is missing" in message
    assert "WRITE_CONCURRENCY" not in message  # its declared default applies, as for every function
    # and LOG_LEVEL's default follows the stage class, which without STAGE is production's (INFO)
    assert "LOG_LEVEL" not in message
    assert "V3_TABLE='${Token[TOKEN.123]}' still contains an unresolved ${...} placeholder" in message
    assert cold_handler.cold_start.built is None


def test_adapter_reports_exactly_the_failed_records(settings, clients, monkeypatch):
    # Given a warm container whose DynamoDB client throttles writes of user u-101's profile only
    for name, value in lambda_env(settings).items():
        monkeypatch.setenv(name, value)
    replicator = handler.Replicator(
        handler.ReplicatorConfig.from_names(settings.names, write_concurrency=4), clients.dynamodb
    )
    positions = handler.PositionStore(handler.CheckpointStore(clients.dynamodb, settings.names.checkpoints_table))
    monkeypatch.setattr(handler.cold_start, "_value", handler.LambdaRuntime(replicator, positions, 100))

    def throttle(params, **_):
        item = params.get("Item", {})
        if item.get("userId", {}).get("S") == "u-101" and item.get("recordType", {}).get("S") == "PROFILE":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutItem")

    clients.dynamodb.meta.events.register(
        "before-parameter-build.dynamodb.PutItem", throttle, unique_id="throttle-u101"
    )
    try:
        # When Lambda invokes the handler with the recorded event
        response = handler.lambda_handler(recorded_event(settings), FakeContext())
    finally:
        clients.dynamodb.meta.events.unregister("before-parameter-build.dynamodb.PutItem", unique_id="throttle-u101")
        replicator.close()
    # Then Powertools reports the u-101 profile records (INSERT failed, MODIFY not applied) and
    # nothing else: its order and the u-102 tombstone were written
    assert response == {
        "batchItemFailures": [{"itemIdentifier": "400000000008367680596"}, {"itemIdentifier": "400000000008367680597"}]
    }
    assert v3(clients, settings, "u-101", "PROFILE") is None
    assert v3(clients, settings, "u-101", "ORDER#o-9001")["entityType"] == "ORDER"
    assert v3(clients, settings, "u-102", "PROFILE")["_deleted"] is True
