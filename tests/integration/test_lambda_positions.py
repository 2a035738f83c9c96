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
from replicator.poller.lambda_events import to_lambda_event
from replicator.positions import PositionStore


def _deliver(clients, table: str, lambda_handler, lambda_context) -> None:
    """What the event source mapping does: read the shard, invoke the function with Lambda's JSON."""
    arn = clients.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = clients.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = clients.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = clients.streams.get_records(ShardIterator=it["ShardIterator"])["Records"]
    assert lambda_handler(to_lambda_event(records, arn, "us-east-1"), lambda_context) == {"batchItemFailures": []}


def _cli(settings, *args):
    return CliRunner().invoke(main, [*args, "--endpoint-url", settings.endpoint_url, "--service", settings.service])


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_lambdas_reports_feed_status_backfill_and_the_gate(settings, clients, deployed_replicator, lambda_context):
    # Given legacy writes replicated by the deployed Lambda only (no `cutover sync` ever ran)
    n = settings.names
    clients.dynamodb.put_item(TableName=n.source_table("users"), Item=to_ddb({"userId": "u1", "email": "a@b.io"}))
    clients.dynamodb.put_item(
        TableName=n.source_table("orders"), Item=to_ddb({"orderId": "o1", "userId": "u1", "amount": 3})
    )
    for table in (n.source_table("users"), n.source_table("orders")):
        _deliver(clients, table, deployed_replicator, lambda_context)

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
    arn = clients.dynamodb.describe_table(TableName=n.source_table("users"))["Table"]["LatestStreamArn"]
    assert past.record_consumer(
        n.source_table("users"), stream_arn=arn, sequence="100", applied_created_at=None, caught_up=True
    )
    # When status runs, Then the consumer is stalled (JSON and text) and its lag is 20 minutes, not 0
    data = json.loads(_cli(settings, "status", "--json").stdout)
    [row] = [p for p in data["replication"]["positions"] if p["consumer"] == "lambda:replicator"]
    assert row["stalled"] is True and data["replication"]["lag_by_source"]["users"] > 1100
    text = _cli(settings, "status").stdout
    assert "STALLED: no report 20 min ago (lambda:replicator" in text


def test_lambda_reports_only_move_forward(settings, clients):
    n = settings.names
    store = PositionStore(CheckpointStore(clients.dynamodb, n.checkpoints_table), consumer="lambda:replicator")
    arn = clients.dynamodb.describe_table(TableName=n.source_table("users"))["Table"]["LatestStreamArn"]
    assert store.record_consumer(
        n.source_table("users"), stream_arn=arn, sequence="200", applied_created_at=None, caught_up=False
    )
    # a retried older batch never moves the report back
    assert not store.record_consumer(
        n.source_table("users"), stream_arn=arn, sequence="100", applied_created_at=None, caught_up=True
    )
    assert store.consumers(n.source_table("users"))["lambda:replicator"]["sequence"] == "200"
