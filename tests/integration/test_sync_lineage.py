"""run_sync follows shard lineage: a split shard's children are read only after the parent is done.

moto never splits shards, so the stream here is a hand-built fake (DynamoDB itself is the moto
server, so the real Replicator writes v3 and checkpoints are real).
"""

from __future__ import annotations

import pytest

from cutover.codec import from_ddb, to_ddb
from cutover.state import CheckpointStore
from replicator.poller.sync import run_sync
from replicator.positions import PositionStore

pytestmark = pytest.mark.server


def _record(seq, user_id, email):
    image = to_ddb({"userId": user_id, "email": email})
    return {
        "eventID": seq,
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_700_000_000,
            "Keys": {"userId": {"S": user_id}},
            "NewImage": image,
            "SequenceNumber": seq,
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


class SplitStream:
    """users' stream: closed parent 'p' (two records), its child 'c' listed first (one record)."""

    def __init__(self, users_arn):
        self.users_arn = users_arn
        self.shards = {
            "c": {"ShardId": "c", "ParentShardId": "p", "SequenceNumberRange": {"StartingSequenceNumber": "300"}},
            "p": {
                "ShardId": "p",
                "SequenceNumberRange": {"StartingSequenceNumber": "100", "EndingSequenceNumber": "299"},
            },
        }
        self.records = {
            "p": [_record("100", "u1", "first@x.io"), _record("200", "u1", "second@x.io")],
            "c": [_record("300", "u1", "third@x.io")],
        }
        self.iterators_requested = []

    def list_streams(self, TableName, **_):
        arn = self.users_arn if f"table/{TableName}/" in self.users_arn else f"{self.users_arn}-{TableName}"
        label = self.users_arn.rsplit("/stream/", 1)[1]  # the real stream's own label (its creation time)
        return {"Streams": [{"StreamArn": arn, "TableName": TableName, "StreamLabel": label}]}

    def describe_stream(self, StreamArn, **_):
        shards = list(self.shards.values()) if StreamArn == self.users_arn else []
        return {"StreamDescription": {"StreamArn": StreamArn, "Shards": shards}}

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType, SequenceNumber=None):
        self.iterators_requested.append(ShardId)
        start = (
            0
            if SequenceNumber is None
            else [r["dynamodb"]["SequenceNumber"] for r in self.records[ShardId]].index(SequenceNumber) + 1
        )
        return {"ShardIterator": f"{ShardId}:{start}"}

    def get_records(self, ShardIterator, Limit):
        shard, start = ShardIterator.split(":")
        batch = self.records[shard][int(start) : int(start) + 1]  # one record per call: several polls
        end = int(start) + len(batch)
        closed = "EndingSequenceNumber" in self.shards[shard]["SequenceNumberRange"]
        exhausted = end >= len(self.records[shard])
        return {"Records": batch, "NextShardIterator": None if closed and exhausted and not batch else f"{shard}:{end}"}


class FakeClients:
    def __init__(self, real, streams):
        self.dynamodb, self.streams, self.region = real.dynamodb, streams, "us-east-1"


def test_children_are_read_after_their_closed_parent_and_positions_are_saved(settings, clients):
    # Given a users stream whose parent shard split into a child (listed first)
    names = settings.names
    arn = clients.dynamodb.describe_table(TableName=names.source_table("users"))["Table"]["LatestStreamArn"]
    stream = SplitStream(arn)
    # When sync drains it
    result = run_sync(settings, FakeClients(clients, stream), once=True)
    # Then the parent is read to its end before the child is touched, and the newest change wins
    assert stream.iterators_requested == ["p", "c"]
    assert result.applied == 3
    v3 = from_ddb(
        clients.dynamodb.get_item(TableName=names.v3_table, Key=to_ddb({"userId": "u1", "recordType": "PROFILE"}))[
            "Item"
        ]
    )
    assert v3["email"] == "third@x.io"
    # And the parent is checkpointed as done, the child at its last record
    saved = PositionStore(CheckpointStore(clients.dynamodb, names.checkpoints_table)).shard_positions(
        names.source_table("users")
    )
    assert saved["p"]["done"] is True and saved["p"]["sequence"] == "200"
    assert saved["c"]["done"] is False and saved["c"]["sequence"] == "300"
    # And a restart reads nothing again: the parent is done and the child resumes after 300
    again = run_sync(settings, FakeClients(clients, stream), once=True)
    assert again.records_read == 0 and stream.iterators_requested[2:] == ["c"]
