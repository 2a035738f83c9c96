"""Replicator.handle against the moto server (real HTTP), with events read from real streams.

Events are made the honest way: write to the legacy tables, read their streams with
GetRecords, and shape each record as Lambda delivers it (eventSourceARN added,
ApproximateCreationDateTime as epoch seconds).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cutover.codec import from_ddb, to_ddb
from replicator.engine import Replicator, ReplicatorConfig
from replicator.quarantine import QuarantineStore

pytestmark = pytest.mark.server


class StreamTap:
    """Reads each legacy table's stream and returns the records not returned before."""

    def __init__(self, clients: Any, tables: list[str]) -> None:
        self._clients = clients
        self._arns = {t: clients.dynamodb.describe_table(TableName=t)["Table"]["LatestStreamArn"] for t in tables}
        self._seen: set[tuple[str, str]] = set()

    def new_records(self, table: str) -> list[dict[str, Any]]:
        streams, arn = self._clients.streams, self._arns[table]
        out: list[dict[str, Any]] = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                page = streams.get_records(ShardIterator=iterator, Limit=1000)
                for rec in page["Records"]:
                    ident = (arn, rec["dynamodb"]["SequenceNumber"])
                    if ident not in self._seen:
                        self._seen.add(ident)
                        out.append(lambda_shaped(rec, arn))
                iterator = page.get("NextShardIterator") if page["Records"] else None
        return out


def lambda_shaped(record: dict[str, Any], arn: str) -> dict[str, Any]:
    shaped = copy.deepcopy(record)
    created = shaped["dynamodb"].get("ApproximateCreationDateTime")
    if created is not None and not isinstance(created, (int, float)):
        shaped["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    shaped["eventSourceARN"] = arn
    return shaped


def event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


@pytest.fixture
def env(settings, clients) -> Iterator[dict[str, Any]]:
    names = settings.names
    replicator = Replicator(ReplicatorConfig.from_names(names, write_concurrency=4), clients.dynamodb)
    tap = StreamTap(clients, [names.source_table("users"), names.source_table("orders")])
    yield {
        "names": names,
        "ddb": clients.dynamodb,
        "rep": replicator,
        "tap": tap,
        "quarantine": QuarantineStore(clients.dynamodb, names.quarantine_table),
    }
    replicator.close()


def put(env, table: str, item: dict[str, Any]) -> None:
    env["ddb"].put_item(TableName=env["names"].source_table(table), Item=to_ddb(item))


def delete(env, table: str, key: dict[str, Any]) -> None:
    env["ddb"].delete_item(TableName=env["names"].source_table(table), Key=to_ddb(key))


def records(env, table: str) -> list[dict[str, Any]]:
    return env["tap"].new_records(env["names"].source_table(table))


def v3(env, user_id: str, record_type: str) -> dict[str, Any] | None:
    resp = env["ddb"].get_item(
        TableName=env["names"].v3_table, Key=to_ddb({"userId": user_id, "recordType": record_type}), ConsistentRead=True
    )
    return from_ddb(resp["Item"]) if "Item" in resp else None


def live(item: dict[str, Any] | None) -> bool:
    """Readers treat a missing item and a tombstone alike: absent."""
    return item is not None and not item.get("_deleted")


def business(item: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if item is None else {k: v for k, v in item.items() if not k.startswith("_")}


def test_users_insert_modify_remove_in_one_batch_apply_in_stream_order(env):
    # Given a user inserted, modified, then another inserted and removed
    put(env, "users", {"userId": "u1", "email": " Ann@X.COM ", "createdAt": Decimal(1_700_000_000)})
    put(
        env, "users", {"userId": "u1", "email": "ann@new.com", "createdAt": "2024-01-02T03:04:05+01:00", "tier": "gold"}
    )
    put(env, "users", {"userId": "u2", "email": "bo@x.com"})
    delete(env, "users", {"userId": "u2"})
    batch = records(env, "users")
    assert [r["eventName"] for r in batch] == ["INSERT", "MODIFY", "INSERT", "REMOVE"]
    # When the whole batch is handled at once
    response = env["rep"].handle(event(*batch))
    # Then nothing failed, u1 holds the newest image transformed, u2 is a tombstone
    assert response == {"batchItemFailures": []}
    assert business(v3(env, "u1", "PROFILE")) == {
        "userId": "u1",
        "recordType": "PROFILE",
        "entityType": "USER",
        "email": "ann@new.com",
        "timestamp": "2024-01-02T02:04:05.000Z",
        "tier": "gold",
    }
    tomb = v3(env, "u2", "PROFILE")
    assert tomb["_deleted"] is True and not {"email", "entityType", "timestamp"} & tomb.keys()


def test_orders_insert_modify_remove_and_user_move(env):
    # Given an order created for user a, then moved to user b
    put(
        env,
        "orders",
        {"orderId": "o1", "userId": "a", "total": Decimal("9.50"), "createdAt": Decimal(1_700_000_000_123)},
    )
    assert env["rep"].handle(event(*records(env, "orders")))["batchItemFailures"] == []
    assert business(v3(env, "a", "ORDER#o1")) == {
        "userId": "a",
        "recordType": "ORDER#o1",
        "entityType": "ORDER",
        "orderId": "o1",
        "total": Decimal("9.50"),
        "timestamp": "2023-11-14T22:13:20.123Z",
    }
    put(env, "orders", {"orderId": "o1", "userId": "b", "total": Decimal("9.50")})
    # When the MODIFY is handled
    assert env["rep"].handle(event(*records(env, "orders")))["batchItemFailures"] == []
    # Then the old key is tombstoned and the new key written
    assert v3(env, "a", "ORDER#o1")["_deleted"] is True
    assert v3(env, "b", "ORDER#o1")["entityType"] == "ORDER"
    # And a REMOVE tombstones the key it last occupied
    delete(env, "orders", {"orderId": "o1"})
    assert env["rep"].handle(event(*records(env, "orders")))["batchItemFailures"] == []
    assert v3(env, "b", "ORDER#o1")["_deleted"] is True


def test_duplicate_delivery_changes_nothing(env):
    # Given a user replicated once
    put(env, "users", {"userId": "u1", "email": "a@x.com"})
    batch = records(env, "users")
    env["rep"].handle(event(*batch))
    before = v3(env, "u1", "PROFILE")
    # When the same event is delivered again (a retry)
    response = env["rep"].handle(event(*batch))
    # Then it is skipped and v3 is byte-for-byte the same
    assert response["batchItemFailures"] == []
    assert v3(env, "u1", "PROFILE") == before
    assert env["rep"].outcomes["skipped"] == 1 and env["rep"].totals.written == 1


def test_older_record_after_newer_is_ignored(env):
    # Given an insert and a modify read from the stream
    put(env, "users", {"userId": "u1", "email": "old@x.com"})
    put(env, "users", {"userId": "u1", "email": "new@x.com"})
    insert, modify = records(env, "users")
    # When the newer one arrives first, then the older one in a later batch
    env["rep"].handle(event(modify))
    env["rep"].handle(event(insert))
    # Then v3 keeps the newer image
    assert v3(env, "u1", "PROFILE")["email"] == "new@x.com"


def test_delete_then_late_older_insert_stays_deleted(env):
    # Given an order inserted then deleted at the source
    put(env, "orders", {"orderId": "o1", "userId": "a"})
    delete(env, "orders", {"orderId": "o1"})
    insert, remove = records(env, "orders")
    # When the REMOVE is applied first and the INSERT arrives late
    env["rep"].handle(event(remove))
    env["rep"].handle(event(insert))
    # Then the key stays a tombstone
    assert v3(env, "a", "ORDER#o1")["_deleted"] is True


def test_poison_item_is_quarantined_and_batch_continues(env, caplog):
    # Given a bad user (no email) between two good ones
    put(env, "users", {"userId": "g1", "email": "g1@x.com"})
    put(env, "users", {"userId": "bad", "name": "no email"})
    put(env, "users", {"userId": "g2", "email": "g2@x.com", "createdAt": "yesterday"})
    # When the batch is handled
    response = env["rep"].handle(event(*records(env, "users")))
    # Then the batch succeeds, the good one is written, the bad ones are quarantined with reasons
    assert response["batchItemFailures"] == []
    assert v3(env, "g1", "PROFILE")["email"] == "g1@x.com"
    assert not live(v3(env, "bad", "PROFILE")) and not live(v3(env, "g2", "PROFILE"))
    assert env["quarantine"].get("users", "bad").reason == "invalid_email"
    assert env["quarantine"].get("users", "g2").reason == "invalid_timestamp"
    assert env["quarantine"].get("users", "bad").legacy_item() == {"userId": "bad", "name": "no email"}
    # And one structured log line per quarantined record names table, key and reason
    logged = {(r.table, r.key, r.reason) for r in caplog.records if r.getMessage() == "record quarantined"}
    assert logged == {
        (env["names"].source_table("users"), "bad", "invalid_email"),
        (env["names"].source_table("users"), "g2", "invalid_timestamp"),
    }


def test_throttling_fails_only_that_record_and_its_later_records(env):
    # Given three users, one of which is updated twice, and DynamoDB throttling writes for it
    put(env, "users", {"userId": "ok1", "email": "1@x.com"})
    put(env, "users", {"userId": "hot", "email": "h1@x.com"})
    put(env, "users", {"userId": "hot", "email": "h2@x.com"})
    put(env, "users", {"userId": "ok2", "email": "2@x.com"})
    batch = records(env, "users")
    hot_seqs = [r["dynamodb"]["SequenceNumber"] for r in batch if r["dynamodb"]["Keys"]["userId"]["S"] == "hot"]

    def throttle(params, **_):
        if params.get("Item", {}).get("userId", {}).get("S") == "hot":
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem"
            )

    env["ddb"].meta.events.register("before-parameter-build.dynamodb.PutItem", throttle, unique_id="throttle-hot")
    try:
        # When the batch is handled
        response = env["rep"].handle(event(*batch))
    finally:
        env["ddb"].meta.events.unregister("before-parameter-build.dynamodb.PutItem", unique_id="throttle-hot")
    # Then only the hot key's records are reported (first failure, and the later one not applied)
    assert response["batchItemFailures"] == [{"itemIdentifier": s} for s in hot_seqs]
    assert v3(env, "ok1", "PROFILE") is not None and v3(env, "ok2", "PROFILE") is not None
    assert v3(env, "hot", "PROFILE") is None
    # And Lambda's retry of the whole batch converges
    assert env["rep"].handle(event(*batch)) == {"batchItemFailures": []}
    assert v3(env, "hot", "PROFILE")["email"] == "h2@x.com"


def test_write_rejected_by_dynamodb_is_quarantined_and_key_tombstoned(env):
    # Given a user already in v3, then a record whose v3 item DynamoDB rejects (over 400 KB)
    put(env, "users", {"userId": "big", "email": "b@x.com"})
    env["rep"].handle(event(*records(env, "users")))
    put(env, "users", {"userId": "big", "email": "b2@x.com"})
    (modify,) = records(env, "users")
    modify["dynamodb"]["NewImage"]["blob"] = {"S": "x" * 410_000}
    # When it is handled
    response = env["rep"].handle(event(modify))
    # Then it is not a batch failure, the stale v3 copy is tombstoned and the item quarantined
    assert response["batchItemFailures"] == []
    assert v3(env, "big", "PROFILE")["_deleted"] is True
    entry = env["quarantine"].get("users", "big")
    assert entry.reason == "write_rejected" and "ValidationException" in entry.detail
    assert entry.legacy_item() == {"userId": "big"}  # the raw item itself was too big to keep


def test_unknown_table_record_is_quarantined_not_blocking(env):
    # Given a record from a table the replicator is not configured for
    put(env, "users", {"userId": "u1", "email": "a@x.com"})
    (rec,) = records(env, "users")
    stray = copy.deepcopy(rec)
    stray["eventSourceARN"] = rec["eventSourceARN"].replace(env["names"].source_table("users"), "someone-elses-table")
    # When it is handled with a good record
    response = env["rep"].handle(event(stray, rec))
    # Then nothing fails; the stray is in quarantine under "unknown" with the raw record
    assert response["batchItemFailures"] == []
    (entry,) = [e for e in env["quarantine"].entries() if e.source == "unknown"]
    assert entry.reason == "unparseable_record" and "someone-elses-table" in entry.detail
    assert json.loads(entry.legacy_item()["record"])["eventSourceARN"] == stray["eventSourceARN"]
    assert v3(env, "u1", "PROFILE")["email"] == "a@x.com"
