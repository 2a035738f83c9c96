"""`cutover dlq`: the on-failure queue's pointers re-driven from the stream, against moto SQS and Streams."""

from __future__ import annotations

import json
from pathlib import Path

from botocore.exceptions import ClientError
from click.testing import CliRunner

from cutover.clients import Clients
from cutover.codec import from_ddb, to_ddb
from cutover_cli.app import main

SAMPLE = Path(__file__).resolve().parents[1] / "events" / "ddb_stream_failure_record.json"


def _stream_range(clients, table: str) -> tuple[str, str, str, str]:
    """(stream ARN, shard, first, last sequence) of everything the table's stream holds now."""
    arn = clients.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = clients.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = clients.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = clients.streams.get_records(ShardIterator=it["ShardIterator"])["Records"]
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    return arn, shard, seqs[0], seqs[-1]


def _send_failure(clients, settings, source: str, arn: str, shard: str, first: str, last: str) -> str:
    """Put the documented on-failure record (tests/events) on the queue, pointing at this range."""
    body = json.loads(SAMPLE.read_text())
    body["DDBStreamBatchInfo"].update(streamArn=arn, shardId=shard, startSequenceNumber=first, endSequenceNumber=last)
    url = clients.sqs.get_queue_url(QueueName=settings.names.failure_queue(source))["QueueUrl"]
    clients.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    return url


def _cli(settings, *args: str):
    return CliRunner().invoke(
        main, ["dlq", *args, "--endpoint-url", settings.endpoint_url, "--service", settings.service, "--json"]
    )


def test_a_discarded_batch_is_listed_redriven_once_and_its_message_deleted(settings, clients):
    # Given three legacy writes the Lambda gave up on (their pointer is on the users' failure queue)
    names = settings.names
    for i in range(3):
        clients.dynamodb.put_item(
            TableName=names.source_table("users"), Item=to_ddb({"userId": f"d{i}", "email": f"D{i}@x.io "})
        )
    arn, shard, first, last = _stream_range(clients, names.source_table("users"))
    url = _send_failure(clients, settings, "users", arn, shard, first, last)

    # When an operator lists the queue, Then the range is shown and the message is still there
    listed = _cli(settings, "list")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["source"], row["shard_id"], row["start_sequence"], row["end_sequence"]) == ("users", shard, first, last)

    # When it is re-driven
    result = _cli(settings, "redrive")
    # Then every record of the range was applied through the replicator and the message is gone
    assert result.exit_code == 0, result.output
    [done] = json.loads(result.stdout)
    assert done["verdict"] == "redriven" and done["records"] == 3 and done["outcomes"] == {"applied": 3}
    for i in range(3):
        item = from_ddb(
            clients.dynamodb.get_item(
                TableName=names.v3_table, Key=to_ddb({"userId": f"d{i}", "recordType": "PROFILE"})
            )["Item"]
        )
        assert item["email"] == f"d{i}@x.io" and item["_version"] != "0"  # a stream version, not backfill's
    assert clients.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None

    # And a second re-drive finds nothing (applied once)
    again = _cli(settings, "redrive")
    assert again.exit_code == 0 and json.loads(again.stdout) == []


def _trimmed(**_):
    # What AWS answers once the range is past the 24 h retention (GetShardIterator API reference:
    # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html);
    # moto never trims, so the answer is injected where botocore would send the request.
    error = {"Error": {"Code": "TrimmedDataAccessException", "Message": "read past the oldest stream record"}}
    raise ClientError(error, "GetShardIterator")


def test_a_trimmed_range_is_reported_exit_1_and_the_message_kept(settings, clients, monkeypatch):
    # Given a pointer to a range the stream has trimmed
    names = settings.names
    clients.dynamodb.put_item(TableName=names.source_table("users"), Item=to_ddb({"userId": "t1", "email": "t@x.io"}))
    arn, shard, first, last = _stream_range(clients, names.source_table("users"))
    url = _send_failure(clients, settings, "users", arn, shard, first, last)

    def trimming_streams(self):
        client = self.client("dynamodbstreams")
        client.meta.events.register("before-call.dynamodb-streams.GetShardIterator", _trimmed)
        return client

    monkeypatch.setattr(Clients, "streams", property(trimming_streams))
    # When re-driven
    result = _cli(settings, "redrive")
    # Then it is reported as trimmed with the command that repairs it, exit 1, and the message stays
    assert result.exit_code == 1, result.output
    [row] = json.loads(result.stdout)
    assert row["verdict"] == "trimmed"
    assert "reconcile --repair" in result.stderr
    assert clients.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages")


def test_a_message_that_is_not_a_stream_failure_record_is_named(settings, clients):
    # Given a stray message on the queue
    url = clients.sqs.get_queue_url(QueueName=settings.names.failure_queue("orders"))["QueueUrl"]
    clients.sqs.send_message(QueueUrl=url, MessageBody='{"hello": "world"}')
    # When listed, Then one line names the message and what to do, exit 2
    result = CliRunner().invoke(
        main, ["dlq", "list", "--endpoint-url", settings.endpoint_url, "--service", settings.service]
    )
    assert result.exit_code == 2
    assert "is not a DynamoDB Streams failure record" in result.stderr and "delete it by hand" in result.stderr


def test_the_list_fits_80_columns_with_every_field_whole(settings, clients):
    # Given a discarded batch on the users' queue
    clients.dynamodb.put_item(
        TableName=settings.names.source_table("users"), Item=to_ddb({"userId": "w1", "email": "w@x.io"})
    )
    arn, shard, first, last = _stream_range(clients, settings.names.source_table("users"))
    _send_failure(clients, settings, "users", arn, shard, first, last)
    # When it is listed for a person on an 80-column terminal
    args = ["dlq", "list", "--endpoint-url", settings.endpoint_url, "--service", settings.service]
    listed = CliRunner().invoke(main, args, env={"COLUMNS": "80"})
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    # Then no line is wider, and each field is there whole, under its name
    assert max(len(line) for line in lines) <= 80, listed.output
    assert lines[1].split() == ["source", "shard_id", "batch_size", "first_arrival"], listed.output
    assert lines[3].split() == ["users", shard, "1", "2019-11-14T00:13:19Z"], listed.output
    assert lines[4].split() == ["start_sequence", first] and lines[5].split() == ["end_sequence", last], listed.output


def test_a_range_whose_end_never_arrives_is_kept_exit_1_with_one_line_naming_it(settings, clients):
    # Given a pointer whose end sequence lies past every record the (open) shard holds
    names = settings.names
    clients.dynamodb.put_item(TableName=names.source_table("users"), Item=to_ddb({"userId": "e1", "email": "e@x.io"}))
    arn, shard, first, last = _stream_range(clients, names.source_table("users"))
    end = str(int(last) + 10**6)
    url = _send_failure(clients, settings, "users", arn, shard, first, end)
    # When re-driven
    result = _cli(settings, "redrive")
    # Then it is incomplete, exit 1, one line names the shard, the range and the fix, and the message stays
    assert result.exit_code == 1, result.output
    [row] = json.loads(result.stdout)
    assert row["verdict"] == "incomplete"
    [line] = [x for x in result.stderr.splitlines() if shard in x]
    assert f"{first}..{end}" in line and "reconcile --repair" in line, result.stderr
    assert clients.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages")
