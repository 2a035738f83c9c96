"""One consumer model: what the deployed Lambda reports is read by status, backfill and the gate."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from cutover.clock import now
from cutover.codec import to_ddb
from cutover.state import CheckpointStore
from cutover_cli.app import main
from replicator import handler
from replicator.poller.lambda_events import to_lambda_event
from replicator.positions import PositionStore


class FakeContext:
    function_name = "my-service-dev-cutover-replicator"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:my-service-dev-cutover-replicator"
    aws_request_id = "7f0c2a4e-0000-4000-8000-000000000003"


@pytest.fixture
def deployed_lambda(settings, monkeypatch):
    n = settings.names
    env = {
        "SERVICE": settings.service,
        "STAGE": "dev",
        "POWERTOOLS_SERVICE_NAME": "cutover-replicator",
        "AWS_LAMBDA_FUNCTION_NAME": FakeContext.function_name,
        "USERS_TABLE": n.users_table,
        "ORDERS_TABLE": n.orders_table,
        "V3_TABLE": n.v3_table,
        "QUARANTINE_TABLE": n.quarantine_table,
        "CHECKPOINTS_TABLE": n.checkpoints_table,
        "CUTOVER_ENDPOINT_URL": settings.endpoint_url,
        "AWS_REGION": "us-east-1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    handler.cold_start.reset()
    yield handler.lambda_handler
    if handler.cold_start.built is not None:
        handler.cold_start.built.close()
    handler.cold_start.reset()


def _deliver(clients, table: str, lambda_handler) -> None:
    """What the event source mapping does: read the shard, invoke the function with Lambda's JSON."""
    arn = clients.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = clients.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = clients.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = clients.streams.get_records(ShardIterator=it["ShardIterator"])["Records"]
    assert lambda_handler(to_lambda_event(records, arn, "us-east-1"), FakeContext()) == {"batchItemFailures": []}


def _cli(settings, *args):
    return CliRunner().invoke(main, [*args, "--endpoint-url", settings.endpoint_url, "--service", settings.service])


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_lambdas_reports_feed_status_backfill_and_the_gate(settings, clients, deployed_lambda):
    # Given legacy writes replicated by the deployed Lambda only (no `cutover sync` ever ran)
    n = settings.names
    clients.dynamodb.put_item(TableName=n.users_table, Item=to_ddb({"userId": "u1", "email": "a@b.io"}))
    clients.dynamodb.put_item(TableName=n.orders_table, Item=to_ddb({"orderId": "o1", "userId": "u1", "amount": 3}))
    for table in (n.users_table, n.orders_table):
        _deliver(clients, table, deployed_lambda)

    # When an operator asks for status, Then both sources have a measured lag from the Lambda
    status = _cli(settings, "status", "--json")
    assert status.exit_code == 0, status.output
    data = json.loads(status.stdout)
    assert all(v is not None and v < 60 for v in data["replication"]["lag_by_source"].values()), data["replication"]
    lambdas = [p for p in data["replication"]["positions"] if p["consumer"].startswith("lambda:")]
    assert {p["source"] for p in lambdas} == {"users", "orders"} and not any(p["stalled"] for p in lambdas)
    assert not any("never synced" in f or "lag" in f for f in data["flip_to_v3"]["failures"]), data["flip_to_v3"]

    # And backfill accepts that replication has run (no --i-know-sync-is-off needed)
    backfill = _cli(settings, "backfill", "--quiet", "--json")
    assert backfill.exit_code == 0, backfill.output


def test_a_consumer_that_stopped_reporting_is_shown_stalled(settings, clients):
    # Given a Lambda report written 20 minutes ago and nothing since
    n = settings.names
    past = PositionStore(
        CheckpointStore(clients.dynamodb, n.checkpoints_table),
        clock=lambda: now() - timedelta(minutes=20),
        consumer="lambda:replicator",
    )
    arn = clients.dynamodb.describe_table(TableName=n.users_table)["Table"]["LatestStreamArn"]
    assert past.record_consumer(n.users_table, stream_arn=arn, sequence="100", applied_created_at=None, caught_up=True)
    # When status runs, Then the consumer is stalled (JSON and text) and its lag is 20 minutes, not 0
    data = json.loads(_cli(settings, "status", "--json").stdout)
    [row] = [p for p in data["replication"]["positions"] if p["consumer"] == "lambda:replicator"]
    assert row["stalled"] is True and data["replication"]["lag_by_source"]["users"] > 1100
    text = _cli(settings, "status").stdout
    assert "STALLED: no report 20 min ago (lambda:replicator" in text


def test_lambda_reports_only_move_forward(settings, clients):
    n = settings.names
    store = PositionStore(CheckpointStore(clients.dynamodb, n.checkpoints_table), consumer="lambda:replicator")
    arn = clients.dynamodb.describe_table(TableName=n.users_table)["Table"]["LatestStreamArn"]
    assert store.record_consumer(
        n.users_table, stream_arn=arn, sequence="200", applied_created_at=None, caught_up=False
    )
    # a retried older batch never moves the report back
    assert not store.record_consumer(
        n.users_table, stream_arn=arn, sequence="100", applied_created_at=None, caught_up=True
    )
    assert store.consumers(n.users_table)["lambda:replicator"]["sequence"] == "200"
