"""Lambda and local sync see the same bytes: binaries, TTL deletes and the public event shapes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from cutover.codec import from_ddb, to_ddb
from cutover_cli.local_backend import init_backend
from replicator.poller.lambda_events import to_lambda_event
from replicator.poller.sync import run_sync
from replicator.quarantine import QuarantineStore

EVENTS = Path(__file__).resolve().parents[1] / "events"
BINARY_USER = {
    "userId": "b1",
    "email": " Bin@Example.com ",
    "avatar": b"\x89PNG\x00\xff",
    "keys": {b"\x00", b"\x01\x02"},
    "nested": {"thumb": b"\xde\xad", "list": [b"\xbe\xef", "text"]},
}


def _stream_records(clients, table: str) -> tuple[str, list[dict]]:
    arn = clients.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = clients.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = clients.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return arn, clients.streams.get_records(ShardIterator=it["ShardIterator"])["Records"]


def _business(clients, settings, user_id: str) -> dict:
    item = clients.dynamodb.get_item(
        TableName=settings.names.v3_table, Key=to_ddb({"userId": user_id, "recordType": "PROFILE"}), ConsistentRead=True
    )["Item"]
    return {k: v for k, v in from_ddb(item).items() if not k.startswith("_")}


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_binaries_give_the_same_v3_item_through_lambda_and_through_sync(
    settings, clients, deployed_replicator, lambda_context
):
    # Given the same legacy user with B, BS and nested binaries in two deployments
    other = replace(settings, service=settings.service + "s")
    init_backend(other, clients.__class__(other))
    other_clients = clients.__class__(other)
    for s, c in ((settings, clients), (other, other_clients)):
        c.dynamodb.put_item(TableName=s.names.source_table("users"), Item=to_ddb(BINARY_USER))
    # When one is delivered as Lambda's JSON event (binaries base64) and the other by `cutover sync`
    arn, records = _stream_records(clients, settings.names.source_table("users"))
    event = to_lambda_event(records, arn, "us-east-1")
    assert isinstance(event["Records"][0]["dynamodb"]["NewImage"]["avatar"]["B"], str)  # base64 text, as on AWS
    assert deployed_replicator(event, lambda_context) == {"batchItemFailures": []}
    run_sync(other, other_clients, once=True)
    # Then both v3 items are identical, binaries included, and nothing was quarantined
    via_lambda, via_sync = _business(clients, settings, "b1"), _business(other_clients, other, "b1")
    assert via_lambda == via_sync
    assert bytes(via_lambda["avatar"]) == b"\x89PNG\x00\xff" and via_lambda["email"] == "bin@example.com"
    assert QuarantineStore(clients.dynamodb, settings.names.quarantine_table).count_open() == 0


def test_a_ttl_deletion_tombstones_like_any_delete_and_is_counted(
    settings, clients, deployed_replicator, lambda_context, capsys
):
    # Given a user that DynamoDB's TTL removed (the stream record names the TTL service)
    clients.dynamodb.put_item(
        TableName=settings.names.source_table("users"), Item=to_ddb({"userId": "t1", "email": "t@x.io"})
    )
    clients.dynamodb.delete_item(TableName=settings.names.source_table("users"), Key=to_ddb({"userId": "t1"}))
    arn, records = _stream_records(clients, settings.names.source_table("users"))
    records[-1]["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    # When Lambda delivers the batch
    assert deployed_replicator(to_lambda_event(records, arn, "us-east-1"), lambda_context) == {"batchItemFailures": []}
    # Then v3 holds a tombstone, and the TtlDeletes metric counted it
    item = from_ddb(
        clients.dynamodb.get_item(
            TableName=settings.names.v3_table,
            Key=to_ddb({"userId": "t1", "recordType": "PROFILE"}),
            ConsistentRead=True,
        )["Item"]
    )
    assert item["_deleted"] is True and "email" not in item
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"TtlDeletes"' in line]
    assert emf and emf[-1]["TtlDeletes"] in (1, [1], 1.0, [1.0]), emf


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_public_sample_event_shape_parses_without_failing_a_record(
    settings, clients, deployed_replicator, lambda_context
):
    # Given an event in the documented sample shape, from our users stream, about items that are not users
    arn, _ = _stream_records(clients, settings.names.source_table("users"))
    event = json.loads((EVENTS / "lambda_docs_shape_event.json").read_text().replace("STREAM_ARN", arn))
    # When the handler takes it, Then no record fails, and each bad item is in quarantine with its reason
    assert deployed_replicator(event, lambda_context) == {"batchItemFailures": []}
    entries = list(QuarantineStore(clients.dynamodb, settings.names.quarantine_table).entries())
    assert entries and all(e.reason and e.source == "users" for e in entries)
